"""Distributed engines: profiles of Dask and Spark DataFrames, computed where the data lives and merged.

:func:`mlwarden.profile.profile` hands such frames to :func:`profile_frame`, which picks the engine from the
frame's type without importing Dask or PySpark unless given one of their frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlwarden.errors import InputError

if TYPE_CHECKING:
    from mlwarden.profile.dataset import DatasetProfile


def profile_frame(
    data: Any,
    *,
    columns: list[str] | None = None,
    seed: int | None = None,
    source: str | None = None,
    **arguments: Any,
) -> DatasetProfile:
    """Profile a Dask or Spark DataFrame (only ``columns`` when given; ``arguments``:
    :class:`~mlwarden.engines.partitions.Options` fields); raise :class:`InputError` for any other type."""
    from mlwarden.engines.partitions import Options

    module = type(data).__module__
    if columns is not None:
        missing = [c for c in columns if c not in list(map(str, data.columns))]
        if missing:
            raise InputError(f"columns not in the data: {', '.join(map(str, missing))}")
        data = data.select(*columns) if module.startswith("pyspark") else data[list(columns)]
    if module.startswith("dask"):
        from mlwarden.engines.dask import profile_dask

        return profile_dask(data, options=Options(**arguments), seed=seed, source=source)
    if module.startswith("pyspark"):
        from mlwarden.engines.spark import profile_spark

        return profile_spark(data, options=Options(**arguments), seed=seed, source=source)
    raise InputError(
        "data: expected a DataFrame, a CSV/Parquet path, or a Dask or Spark DataFrame, "
        f"got {type(data).__name__}"
    )
