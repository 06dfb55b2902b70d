"""Class labels as comparable keys: ``1``, ``1.0``, ``"1"`` and ``True`` name the same class.

Targets, predictions, the keys of a score map (``--score 1=p_one`` arrives as the string ``"1"``) and
``positive_label`` come with different types. Every label becomes a string key: a number is written as its
integer when whole (``1``, ``1.0``, ``np.int64(1)``, ``True`` → ``"1"``) and as ``repr(float)`` otherwise; a
string is kept as it is (``"01"`` stays ``"01"``). Keys compare with ``==`` whatever the source's type.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from mlwarden.errors import InputError


def label_key(label: object) -> str:
    """The key of one label (see the module docstring)."""
    if isinstance(label, bool | np.bool_):
        return "1" if label else "0"
    if isinstance(label, numbers.Integral):
        return str(int(label))
    if isinstance(label, numbers.Real):
        value = float(label)
        return str(int(value)) if math.isfinite(value) and value.is_integer() else repr(value)
    return str(label)


def label_keys(values: pd.Series | np.ndarray) -> np.ndarray:
    """Keys of a column of labels (no missing values), shape (n,), dtype object.

    Vectorised over rows: each *distinct* label is converted once (``pd.factorize``), then gathered.
    """
    codes, uniques = pd.factorize(pd.Series(values, copy=False).astype(object), use_na_sentinel=False)
    table = np.array([label_key(u) for u in uniques] + [""], dtype=object)
    return table[codes]


def sorted_labels(keys: list[str] | set[str], *, field: str, strict: bool = True) -> list[str]:
    """Keys in natural label order: numerically when every key is a number, else alphabetically.

    Numbers mixed with strings have no natural order: with ``strict`` (the order decides something, e.g.
    which score column is which class) raises :class:`InputError` naming ``field``; otherwise numbers
    come first.
    """
    keys = list(keys)
    numbers_ = [as_number(k) for k in keys]
    if all(v is not None for v in numbers_):
        return [k for _, k in sorted(zip(numbers_, keys, strict=True))]
    if not strict:
        return sorted(keys, key=lambda k: (as_number(k) is None, as_number(k) or 0.0, k))
    if any(v is not None for v in numbers_):
        shown = ", ".join(sorted(keys)[:6])
        raise InputError(
            f"{field}: labels mix numbers and strings ({shown}) so their order is undefined; "
            "give scores as a {class: column} map or set positive_label"
        )
    return sorted(keys)


def as_number(key: str) -> float | None:
    """The number a key writes, or ``None`` for a word."""
    try:
        return float(key)
    except ValueError:
        return None
