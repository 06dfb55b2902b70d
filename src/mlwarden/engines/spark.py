"""Profiles of Spark DataFrames: each partition profiled by ``mapInPandas`` on the executors, returned as
serialised partial profiles and merged on the driver.

``profile_spark(sdf)`` equals :func:`mlwarden.profile.profile` of ``sdf.toPandas()`` with the same ``seed``:
counts, histograms, category counts and the row sample exactly, moments within float rounding (see
:mod:`mlwarden.engines.partitions`). Rows are numbered in partition order (the order ``toPandas`` returns);
each partition is read as a stream of Arrow batches (``spark.sql.execution.arrow.maxRecordsPerBatch``), so an
executor holds one batch and one partial profile. On a cluster, build the session with the master URL
(``SparkSession.builder.master("spark://host:7077")``); the executors need mlwarden installed.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from mlwarden.engines.partitions import (
    Options,
    edges_of,
    finish,
    merge_parts,
    needs_edges,
    plan,
    profile_partition,
    scan_partition,
    strided_partition,
)
from mlwarden.profile.dataset import DatasetProfile

_RESULT = "partition int, payload binary"


def profile_spark(
    data: Any, *, options: Options, seed: int | None, source: str | None = None
) -> DatasetProfile:
    """Profile a ``pyspark.sql.DataFrame`` (``options``: the :func:`~mlwarden.profile.profile` arguments;
    ``seed=None`` derives the sample's seed from the row count)."""
    names = [str(c) for c in data.columns]
    need = needs_edges(names, options)
    scans = _per_partition(data, lambda pid, batches: scan_partition(batches, need, options))
    layout = plan(scans)
    options.seed = layout.rows if seed is None else seed
    edges = {}
    if layout.steps:
        samples = _per_partition(
            data, lambda pid, batches: strided_partition(batches, layout.steps, layout.starts[pid], options)
        )
        edges = edges_of(samples, layout, options.bins)

    def partial(pid: int, batches: Iterator[pd.DataFrame]) -> tuple[bytes, Any]:
        part, positions = profile_partition(batches, layout.offsets[pid], edges, options)
        return part.to_bytes(), positions  # the versioned profile format travels to the driver

    parts = [
        (DatasetProfile.from_bytes(blob), positions) for blob, positions in _per_partition(data, partial)
    ]
    merged, positions = merge_parts(parts)
    return finish(merged, positions, options, source)


def _per_partition(data: Any, work: Callable[[int, Iterator[pd.DataFrame]], Any]) -> list[Any]:
    """``work(partition id, its pandas batches)`` on every partition, results in partition order."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import TaskContext

        pid = TaskContext.get().partitionId()
        yield pd.DataFrame({"partition": [pid], "payload": [pickle.dumps(work(pid, batches))]})

    rows = data.mapInPandas(run, schema=_RESULT).collect()
    results = {row["partition"]: pickle.loads(row["payload"]) for row in rows}
    count = data.rdd.getNumPartitions()
    return [results[pid] for pid in range(count)]  # every partition yields one row, even an empty one
