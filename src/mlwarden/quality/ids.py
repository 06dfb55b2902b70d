"""Prediction ids must be unique: a duplicate double-counts a prediction and breaks the label join."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlwarden.findings import Finding, Severity

EXAMPLES = 5


def check_ids(ids: pd.Series | np.ndarray | list, *, column: str = "id") -> list[Finding]:
    """A finding when any id occurs more than once (missing ids count as a problem too)."""
    ids = pd.Series(ids)
    if ids.empty:
        return []
    findings = []
    missing = int(ids.isna().sum())
    if missing:
        findings.append(
            Finding(
                check="quality.missing_ids",
                severity=Severity.CRITICAL,
                message=f"{column}: {missing:,} predictions have no id; their labels can never be joined",
                column=column,
                value=missing / len(ids),
                threshold=0.0,
            )
        )
    repeated = ids[ids.notna() & ids.duplicated(keep=False)]
    if not repeated.empty:
        examples = pd.unique(repeated.astype(str))[:EXAMPLES].tolist()
        extra = int(ids.notna().sum() - ids.dropna().nunique())
        findings.append(
            Finding(
                check="quality.duplicate_ids",
                severity=Severity.WARNING,
                message=f"{column}: {extra:,} duplicated prediction ids ({extra / len(ids):.1%}); "
                f"e.g. {', '.join(examples)}",
                column=column,
                value=extra / len(ids),
                threshold=0.0,
                evidence={"duplicates": extra, "examples": examples},
            )
        )
    return findings
