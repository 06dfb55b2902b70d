"""Train/test contamination and identifier-like columns.

Rows: every row's feature values are hashed (``pandas.util.hash_pandas_object``, index excluded); a row is
*shared* when the same hash occurs in another split. Some collisions are natural when features take few
values, so the rows count as contamination only when the share of shared rows exceeds twice the share of
rows duplicated within their own split (with unique rows, any shared row is contamination).

Ids: an id value that occurs in more than one split puts the same entity on both sides of the evaluation.

Identifiers: a column whose values are present in every row and all distinct (integers, strings — not
floats or timestamps), in a table of at least 50 rows, identifies rows rather than describing them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlwarden.features.jsonable import jsonable
from mlwarden.findings import Finding, Severity

NATURAL_FACTOR = 2.0  # shared rows count as contamination above this many times the within-split dup share
MIN_IDENTIFIER_ROWS = 50


def row_hashes(data: pd.DataFrame) -> np.ndarray:
    """One uint64 hash per row of ``data``'s values (unhashable values are hashed by their text)."""
    try:
        return pd.util.hash_pandas_object(data, index=False).to_numpy()
    except TypeError:
        return pd.util.hash_pandas_object(data.astype(str), index=False).to_numpy()


def shared_rows_finding(
    data: pd.DataFrame, *, split: str, features: list[str], examples: int
) -> Finding | None:
    """``leakage.contamination`` (critical) when identical feature rows appear in more than one split."""
    if not features:
        return None
    frame = pd.DataFrame({"h": row_hashes(data[features]), "s": data[split].to_numpy()})
    frame = frame[frame["s"].notna()]
    splits_per_row = frame.groupby("h", sort=False)["s"].transform("nunique").to_numpy()
    shared = splits_per_row > 1
    within = frame.duplicated(["h", "s"], keep=False).to_numpy()
    share, natural = shared.mean() if len(frame) else 0.0, within.mean() if len(frame) else 0.0
    if not shared.any() or share <= NATURAL_FACTOR * natural:
        return None
    per_split = frame.loc[shared, "s"].value_counts().sort_index()
    first = frame[shared].drop_duplicates("h").head(examples)
    shown = [
        {
            "rows": [jsonable(v) for v in data.index[frame.index[frame["h"] == h]][:5]],
            "splits": sorted(map(str, frame.loc[frame["h"] == h, "s"].unique())),
        }
        for h in first["h"]
    ]
    count = int(shared.sum())
    return Finding(
        check="leakage.contamination",
        severity=Severity.CRITICAL,
        message=f"{count:,} rows ({share:.1%}) have exactly the same feature values as a row in another "
        f"'{split}' split (within-split duplicates: {natural:.1%})",
        value=float(share),
        threshold=float(NATURAL_FACTOR * natural),
        evidence={
            "kind": "rows",
            "rows": count,
            "distinct_rows": int(frame.loc[shared, "h"].nunique()),
            "per_split": {str(k): int(v) for k, v in per_split.items()},
            "within_split_duplicate_share": float(natural),
            "examples": shown,
        },
    )


def shared_ids_finding(data: pd.DataFrame, *, split: str, id_column: str, examples: int) -> Finding | None:
    """``leakage.contamination`` (critical) when one ``id_column`` value occurs in more than one split."""
    frame = data[[id_column, split]].dropna()
    splits_per_id = frame.groupby(id_column, sort=False)[split].nunique()
    shared = splits_per_id[splits_per_id > 1]
    if shared.empty:
        return None
    count, share = len(shared), len(shared) / max(len(splits_per_id), 1)
    rows = int(frame[id_column].isin(shared.index).sum())
    return Finding(
        check="leakage.contamination",
        severity=Severity.CRITICAL,
        message=f"{count:,} '{id_column}' values ({share:.1%} of ids, {rows:,} rows) occur in more than one "
        f"'{split}' split",
        column=id_column,
        value=share,
        threshold=0.0,
        evidence={
            "kind": "ids",
            "ids": count,
            "rows": rows,
            "examples": [jsonable(v) for v in shared.index[:examples]],
        },
    )


def identifier_findings(data: pd.DataFrame, columns: list[str]) -> list[Finding]:
    """``leakage.identifier`` (warning) per non-float column whose values are present and unique per row."""
    if len(data) < MIN_IDENTIFIER_ROWS:
        return []
    out = []
    for column in columns:
        series = data[column]
        dtype = series.dtype
        if (
            pd.api.types.is_float_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
        ):
            continue
        try:
            unique = bool(series.notna().all() and series.is_unique)
        except TypeError:  # unhashable values (lists, dicts) are not identifiers
            continue
        if unique:
            out.append(
                Finding(
                    check="leakage.identifier",
                    severity=Severity.WARNING,
                    message=f"{column}: a different value in every one of {len(data):,} rows — an "
                    "identifier, not a feature (a model can memorise it; if it is the id, pass it as such)",
                    column=column,
                    value=1.0,
                    threshold=1.0,
                    evidence={"rows": len(data), "examples": [jsonable(v) for v in series.head(3).tolist()]},
                )
            )
    return out
