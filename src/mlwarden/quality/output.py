"""Output sanity: is the model emitting well-formed garbage?

Constant predictions, scores stuck at one value, scores that are NaN/inf or outside [0, 1], and a predicted
class balance outside the band the reference allows. All from profiles of the output columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlwarden.findings import Finding, Severity
from mlwarden.profile import ColumnProfile, DatasetProfile
from mlwarden.quality.data_quality import std_ratio


@dataclass(frozen=True, slots=True)
class OutputConfig:
    """Thresholds of the output checks."""

    # Scores/predictions whose current std is below this fraction of the reference's are stuck.
    stuck_ratio: float = 0.01
    # A predicted class's share may move this much (absolute) from its reference share, or 4 standard
    # errors of a proportion, whichever is larger, before the balance is out of bounds.
    class_share_tolerance: float = 0.15
    min_rows: int = 20


def check_output(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    prediction: str | None = None,
    scores: list[str] | tuple[str, ...] = (),
    config: OutputConfig | None = None,
) -> list[Finding]:
    """Sanity findings for the prediction column and the score column(s)."""
    config = config or OutputConfig()
    findings: list[Finding] = []
    if prediction and prediction in reference.columns and prediction in current.columns:
        ref, cur = reference.columns[prediction], current.columns[prediction]
        findings += _constant_prediction(ref, cur, config)
        if not ref.is_numeric and not cur.is_numeric:
            findings += _class_balance(ref, cur, config)
    for name in scores:
        if name in reference.columns and name in current.columns:
            findings += _score(reference.columns[name], current.columns[name], config)
    return findings


def _constant_prediction(ref: ColumnProfile, cur: ColumnProfile, config: OutputConfig) -> list[Finding]:
    if cur.count < config.min_rows:
        return []
    if ref.is_numeric:
        ratio = std_ratio(ref, cur, config.min_rows)
        stuck = ratio is not None and ratio < config.stuck_ratio
        value = f"{cur.mean:.4g}"
    else:
        stuck = len(ref.categories) > 1 and len(cur.categories) == 1 and not cur.other
        value = next(iter(cur.categories), "")
    if not stuck:
        return []
    return [
        Finding(
            check="output.constant_prediction",
            severity=Severity.CRITICAL,
            message=f"{ref.name}: the model predicts the same value ({value}) for every row",
            column=ref.name,
            value=0.0,
            threshold=config.stuck_ratio,
        )
    ]


def _class_balance(ref: ColumnProfile, cur: ColumnProfile, config: OutputConfig) -> list[Finding]:
    if cur.count < config.min_rows or not ref.count:
        return []
    out = []
    for name in sorted(set(ref.categories) | set(cur.categories)):
        p, q = ref.categories.get(name, 0) / ref.count, cur.categories.get(name, 0) / cur.count
        bound = max(config.class_share_tolerance, 4 * math.sqrt(max(p * (1 - p), 1e-6) / cur.count))
        if abs(q - p) > bound:
            out.append(
                Finding(
                    check="output.class_balance",
                    severity=Severity.WARNING,
                    message=f"{ref.name}: class {name!r} predicted for {q:.1%} of rows (reference {p:.1%})",
                    column=ref.name,
                    segment=name,
                    value=q,
                    threshold=bound,
                    evidence={"reference_share": p, "class": name},
                )
            )
    return out


def _score(ref: ColumnProfile, cur: ColumnProfile, config: OutputConfig) -> list[Finding]:
    name = ref.name
    if not cur.is_numeric:
        return [
            Finding(
                check="output.score_type",
                severity=Severity.CRITICAL,
                message=f"{name}: scores are {cur.kind}, expected numbers",
                column=name,
            )
        ]
    out = []
    bad = cur.missing + cur.nonfinite
    if bad and cur.total:
        share = bad / cur.total
        ref_share = (ref.missing + ref.nonfinite) / ref.total if ref.total else 0.0
        if share > ref_share:
            out.append(
                Finding(
                    check="output.score_nonfinite",
                    severity=Severity.CRITICAL,
                    message=f"{name}: {bad:,} scores are NaN or infinite ({share:.1%} of rows)",
                    column=name,
                    value=share,
                    threshold=ref_share,
                )
            )
    in_unit = ref.min >= 0 and ref.max <= 1
    if in_unit and cur.moments.n and (cur.min < 0 or cur.max > 1):
        out.append(
            Finding(
                check="output.score_range",
                severity=Severity.CRITICAL,
                message=f"{name}: scores outside [0, 1] (min {cur.min:.4g}, max {cur.max:.4g})",
                column=name,
                value=cur.max if cur.max > 1 else cur.min,
                threshold=1.0 if cur.max > 1 else 0.0,
            )
        )
    ratio = std_ratio(ref, cur, config.min_rows)
    if ratio is not None and ratio < config.stuck_ratio:
        out.append(
            Finding(
                check="output.score_stuck",
                severity=Severity.CRITICAL,
                message=f"{name}: scores stuck at {cur.mean:.4g} (std {cur.std:.3g}, was {ref.std:.3g})",
                column=name,
                value=ratio,
                threshold=config.stuck_ratio,
            )
        )
    return out
