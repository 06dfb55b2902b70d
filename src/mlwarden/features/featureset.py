"""One feature definition for training and serving: named, typed, vectorised feature functions.

A :class:`FeatureSet` computes its features the same way whatever the input looks like: a training
DataFrame, a batch of JSON records, or one record. Records become a small DataFrame, every input column is
converted to its declared dtype, the same vectorised functions run, and each result is cast to the
feature's declared dtype — so the same input values give bitwise-identical features on both paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.features.dtypes import (
    INPUT_DTYPES,
    OUTPUT_DTYPES,
    cast_output,
    check_dtype,
    coerce_input,
    to_python,
)

FeatureFunc = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Feature:
    """A named feature computed by ``func(*inputs, **params)``.

    ``inputs`` names the input columns in the order ``func`` takes them, either as a list (each input is
    ``float64``) or as a mapping ``column -> input dtype`` (see ``INPUT_DTYPES``). ``func`` receives one
    pandas Series per input and returns an array-like of the same length (or a scalar), which is cast to
    ``dtype`` (see ``OUTPUT_DTYPES``). Functions must be row-wise: statistics learned on training data
    (means, bin edges, vocabularies) belong in ``params``, never in computations over the batch.
    """

    name: str
    inputs: Mapping[str, str] | Sequence[str]
    dtype: str
    func: FeatureFunc
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"a feature name must be a non-empty string, got {self.name!r}")
        if not callable(self.func):
            raise InputError(f"feature '{self.name}': func must be callable, got {type(self.func).__name__}")
        if isinstance(self.inputs, str):
            raise InputError(
                f"feature '{self.name}': inputs must be a list of columns, got the string {self.inputs!r}"
            )
        inputs = (
            dict(self.inputs) if isinstance(self.inputs, Mapping) else dict.fromkeys(self.inputs, "float64")
        )
        if not inputs:
            raise InputError(f"feature '{self.name}': needs at least one input column")
        for dtype in inputs.values():
            check_dtype(dtype, INPUT_DTYPES, "input", self.name)
        check_dtype(self.dtype, OUTPUT_DTYPES, "output", self.name)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "params", dict(self.params or {}))

    @property
    def input_types(self) -> dict[str, str]:
        return dict(self.inputs)  # type: ignore[arg-type]


class FeatureSet:
    """An ordered collection of :class:`Feature` with one transform for training and serving.

    >>> fs = FeatureSet()
    >>> @fs.feature(inputs=["amount"])
    ... def log_amount(amount):
    ...     return np.log1p(amount)
    """

    def __init__(self, features: Iterable[Feature] = (), *, name: str = "features") -> None:
        self.name = name
        self._features: dict[str, Feature] = {}
        for f in features:
            self.add(f)

    def add(self, feature: Feature) -> Feature:
        """Add ``feature``; a second feature with the same name raises :class:`InputError`."""
        if feature.name in self._features:
            raise InputError(f"feature '{feature.name}' is defined twice in feature set '{self.name}'")
        self._features[feature.name] = feature
        return feature

    def feature(
        self,
        name: str | None = None,
        *,
        inputs: Mapping[str, str] | Sequence[str],
        dtype: str = "float64",
        params: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> Callable[[FeatureFunc], FeatureFunc]:
        """Decorator form of :meth:`add`; the function is returned unchanged (and stays callable)."""

        def register(func: FeatureFunc) -> FeatureFunc:
            self.add(
                Feature(
                    name=name or func.__name__,
                    inputs=inputs,
                    dtype=dtype,
                    func=func,
                    params=params or {},
                    description=description or (func.__doc__ or "").strip().split("\n")[0],
                )
            )
            return func

        return register

    def __iter__(self) -> Iterator[Feature]:
        return iter(self._features.values())

    def __len__(self) -> int:
        return len(self._features)

    def __getitem__(self, name: str) -> Feature:
        try:
            return self._features[name]
        except KeyError:
            raise InputError(f"no feature '{name}' in feature set '{self.name}'") from None

    @property
    def names(self) -> list[str]:
        return list(self._features)

    @property
    def input_columns(self) -> list[str]:
        """Every input column any feature reads, in first-use order."""
        return list(dict.fromkeys(c for f in self for c in f.inputs))

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """All features of ``data`` (one row per input row, same index), each in its declared dtype."""
        if not isinstance(data, pd.DataFrame):
            raise InputError(f"transform expects a pandas DataFrame, got {type(data).__name__}")
        converted: dict[tuple[str, str], pd.Series] = {}
        out: dict[str, pd.Series] = {}
        for f in self:
            args = []
            for column, dtype in f.input_types.items():
                if column not in data.columns:
                    raise InputError(f"feature '{f.name}': input column '{column}' is missing from the data")
                key = (column, dtype)
                if key not in converted:
                    converted[key] = coerce_input(data[column], dtype, feature=f.name, column=column)
                args.append(converted[key])
            try:
                result = f.func(*args, **f.params)
            except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
                cols = ", ".join(f"'{c}' ({d})" for c, d in f.input_types.items())
                raise InputError(f"feature '{f.name}' failed on input columns {cols}: {exc}") from exc
            out[f.name] = cast_output(result, f.dtype, feature=f.name, index=data.index)
        return pd.DataFrame(out, index=data.index, columns=self.names)

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Features of JSON-like records, computed by :meth:`transform` on a DataFrame of the records.

        Missing keys are missing values; a column missing from every record raises :class:`InputError`.
        Returned values are Python scalars: floats keep NaN, other missing values are ``None``.
        """
        if isinstance(records, Mapping | str) or not isinstance(records, Sequence):
            raise InputError("transform_records expects a list of dicts (one per record)")
        if not records:
            return []
        frame = pd.DataFrame.from_records(list(records))
        frame = frame[[c for c in self.input_columns if c in frame.columns]]
        features = self.transform(frame)
        columns = {name: to_python(features[name]) for name in features.columns}
        return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]

    def transform_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Features of one record (same code path as :meth:`transform_records`)."""
        if not isinstance(record, Mapping):
            raise InputError(f"transform_record expects a dict, got {type(record).__name__}")
        return self.transform_records([record])[0]

    def fingerprint(self) -> str:
        """sha256 of the definitions (code, params, dtypes, inputs) and the versions of the libraries used."""
        from mlwarden.features.fingerprint import fingerprint_features

        return fingerprint_features(list(self))

    def describe(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per feature: name, inputs, dtype, params, description."""
        from mlwarden.features.fingerprint import canonical

        return [
            {
                "name": f.name,
                "inputs": f.input_types,
                "dtype": f.dtype,
                "params": canonical(f.params),
                "description": f.description,
            }
            for f in self
        ]
