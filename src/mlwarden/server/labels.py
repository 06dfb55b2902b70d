"""Class labels as the service reads them back: text on the wire and in the store, numbers where every
label reads as a number — the same rule for a window's labels and predictions, the reference's and the
classes of the model's column mapping, so that ``"2"`` from a JSON key and ``2`` from a Parquet file are
one class."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlwarden.schema import ColumnMapping


def typed_labels(values: pd.Series) -> pd.Series:
    """``values`` as numbers when every non-missing one reads as a number (``"1"`` → 1), else unchanged."""
    present = values.notna()
    if not present.any():
        return values
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric[present].notna().all() else values


def typed_frame(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """``frame`` with its target and prediction columns typed by :func:`typed_labels`."""
    typed = {c: typed_labels(frame[c]) for c in (mapping.target, mapping.prediction) if c in frame.columns}
    return frame.assign(**typed) if typed else frame


def typed_mapping(mapping: ColumnMapping) -> ColumnMapping:
    """``mapping`` with its class labels (``scores`` map keys, ``positive_label``) typed as labels are:
    numbers when every class label of the mapping reads as one, else text."""
    labels: list[Any] = list(mapping.classes or [])
    if mapping.positive_label is not None:
        labels.append(mapping.positive_label)
    if not labels:
        return mapping
    typed = typed_labels(pd.Series(labels, dtype=object)).tolist()
    if typed == labels:
        return mapping
    as_typed = dict(zip(labels, typed, strict=True))
    update: dict[str, Any] = {}
    if mapping.classes is not None:
        update["scores"] = {as_typed[label]: column for label, column in mapping.scores.items()}
    if mapping.positive_label is not None:
        update["positive_label"] = as_typed[mapping.positive_label]
    return mapping.model_copy(update=update)
