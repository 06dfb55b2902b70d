"""Chunks: fit once on the reference, judge many slices of a current data set (periods or runs of rows).

:class:`Monitor` profiles the reference and fits its CBPE/DLE estimator once; :meth:`Monitor.check_chunks`
cuts the current data (:func:`split_chunks`) and returns a :class:`ChunkedReport`, one report per chunk,
with drift decided by one multiple-testing correction over every chunk × column. See docs/chunks.md.
"""

from mlwarden.chunks.monitor import MIN_CHUNK_ROWS, Monitor
from mlwarden.chunks.report import ChunkedReport, ChunkResult
from mlwarden.chunks.split import Chunk, split_chunks

__all__ = ["MIN_CHUNK_ROWS", "Chunk", "ChunkResult", "ChunkedReport", "Monitor", "split_chunks"]
