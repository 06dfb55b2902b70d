"""Output sanity: is the model emitting well-formed garbage?

Missing predictions, constant predictions, scores stuck at one value, scores that are NaN/inf or outside
[0, 1], and a predicted
class balance outside the band the reference allows. All from profiles of the output columns. As in
:mod:`mlwarden.quality.data_quality`, every check but the range check has a chance guard: an exact p-value
under "reference and current rows are exchangeable" below ``OutputConfig.alpha`` (divided by the number of
classes for the class balance). A score outside [0, 1] when every reference score was inside is not chance.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import hypergeom

from mlwarden.findings import Finding, Severity
from mlwarden.profile import ColumnProfile, DatasetProfile
from mlwarden.quality.data_quality import collapsed, excess_p_value


@dataclass(frozen=True, slots=True)
class OutputConfig:
    """Thresholds of the output checks."""

    # Chance of a false finding per check (see the module docstring).
    alpha: float = 0.001
    # Scores/predictions whose current std is below this fraction of the reference's are stuck.
    stuck_ratio: float = 0.01
    # A predicted class's share must move at least this much (absolute) from its reference share, and
    # beyond chance (Fisher's exact test, two-sided), before the balance is out of bounds.
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
        findings += _unusable(ref, cur, config, check="output.prediction_missing", what="predictions")
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
        stuck = collapsed(ref, cur, config.stuck_ratio, config.min_rows, config.alpha)
        value = f"{cur.mean:.4g}"
    else:
        value = next(iter(cur.categories), "")
        single = len(ref.categories) > 1 and len(cur.categories) == 1 and not cur.other
        chance = len(ref.categories) * excess_p_value(
            ref.categories.get(value, 0), ref.count, cur.count, cur.count
        )
        stuck = single and chance < config.alpha
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
    names = sorted(set(ref.categories) | set(cur.categories))
    level = config.alpha / max(len(names), 1)
    total = ref.count + cur.count
    for name in names:
        r, c = ref.categories.get(name, 0), cur.categories.get(name, 0)
        p, q = r / ref.count, c / cur.count
        if abs(q - p) < config.class_share_tolerance:
            continue
        # Fisher's exact test, two-sided as twice the smaller tail: the current's count of this class among
        # all rows of the class is hypergeometric when the rows are exchangeable.
        tails = hypergeom.sf(c - 1, total, r + c, cur.count), hypergeom.cdf(c, total, r + c, cur.count)
        chance = min(1.0, 2 * float(min(tails)))
        if chance >= level:
            continue
        out.append(
            Finding(
                check="output.class_balance",
                severity=Severity.WARNING,
                message=f"{ref.name}: class {name!r} predicted for {q:.1%} of rows (reference {p:.1%}; "
                f"p-value {chance:.2g} < {level:.2g})",
                column=ref.name,
                segment=name,
                value=q,
                threshold=config.class_share_tolerance,
                evidence={"reference_share": p, "class": name, "p_value": chance},
            )
        )
    return out


def _unusable(
    ref: ColumnProfile, cur: ColumnProfile, config: OutputConfig, *, check: str, what: str
) -> list[Finding]:
    """A critical finding when more current rows than reference rows have a missing or non-finite output
    (a prediction or score), beyond chance: Fisher's exact test (:func:`excess_p_value`) below ``alpha``."""
    bad = cur.missing + cur.nonfinite
    if not bad or not cur.total:
        return []
    share = bad / cur.total
    ref_bad = ref.missing + ref.nonfinite
    ref_share = ref_bad / ref.total if ref.total else 0.0
    if share <= ref_share or excess_p_value(ref_bad, ref.total, bad, cur.total) >= config.alpha:
        return []
    return [
        Finding(
            check=check,
            severity=Severity.CRITICAL,
            message=f"{ref.name}: {bad:,} {what} are missing, NaN or infinite ({share:.1%} of rows; "
            f"reference {ref_share:.1%})",
            column=ref.name,
            value=share,
            threshold=ref_share,
        )
    ]


def _score(ref: ColumnProfile, cur: ColumnProfile, config: OutputConfig) -> list[Finding]:
    name = ref.name
    if not cur.is_numeric and cur.kind != "empty":  # all-missing scores are judged as non-finite below
        return [
            Finding(
                check="output.score_type",
                severity=Severity.CRITICAL,
                message=f"{name}: scores are {cur.kind}, expected numbers",
                column=name,
            )
        ]
    out = _unusable(ref, cur, config, check="output.score_nonfinite", what="scores")
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
    if collapsed(ref, cur, config.stuck_ratio, config.min_rows, config.alpha):
        out.append(
            Finding(
                check="output.score_stuck",
                severity=Severity.CRITICAL,
                message=f"{name}: scores stuck at {cur.mean:.4g} "
                f"(std {cur.std:.3g} < {config.stuck_ratio:g} × reference {ref.std:.3g})",
                column=name,
                value=cur.std / ref.std,
                threshold=config.stuck_ratio,
            )
        )
    return out
