"""Profiles of Dask DataFrames: partitions profiled on the workers, merged with a tree reduction.

``profile_dask(ddf)`` equals :func:`mlwarden.profile.profile` of ``ddf.compute()`` with the same ``seed``:
counts, histograms, category counts and the row sample exactly, moments within float rounding (see
:mod:`mlwarden.engines.partitions` for the three passes). Works with any Dask scheduler; on a cluster, create
a ``dask.distributed.Client("tcp://scheduler:8786")`` first.
"""

from __future__ import annotations

from typing import Any

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

SPLIT_EVERY = 8  # partial profiles merged per node of the reduction tree


def profile_dask(
    data: Any, *, options: Options, seed: int | None, source: str | None = None
) -> DatasetProfile:
    """Profile a ``dask.dataframe.DataFrame`` (``options``: the :func:`~mlwarden.profile.profile`
    arguments; ``seed=None`` derives the sample's seed from the row count)."""
    import dask

    names = [str(c) for c in data.columns]
    partitions = data.to_delayed()
    need = needs_edges(names, options)
    scans = dask.compute(*[dask.delayed(scan_partition)([p], need, options) for p in partitions])
    layout = plan(list(scans))
    options.seed = layout.rows if seed is None else seed
    edges = {}
    if layout.steps:
        samples = dask.compute(
            *[
                dask.delayed(strided_partition)([p], layout.steps, start, options)
                for p, start in zip(partitions, layout.starts, strict=True)
            ]
        )
        edges = edges_of(list(samples), layout, options.bins)
    level = [
        dask.delayed(profile_partition)([p], offset, edges, options)
        for p, offset in zip(partitions, layout.offsets, strict=True)
    ]
    while len(level) > 1:  # tree reduction: SPLIT_EVERY partial profiles per merge
        level = [
            dask.delayed(merge_parts)(level[i : i + SPLIT_EVERY]) for i in range(0, len(level), SPLIT_EVERY)
        ]
    merged, positions = dask.compute(level[0])[0]
    return finish(merged, positions, options, source)
