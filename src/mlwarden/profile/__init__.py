"""Profiles: mergeable, columnar summaries of data — raw rows need not be kept (docs/profiles.md).

A column profile holds its kind (numeric, datetime, categorical, boolean, or empty: no values at all),
count, missing and non-finite counts, exact min/max, mean and variance (Chan's merge, scaled for magnitudes
near 1e±300), a histogram on quantile bin edges (the reference's, so current data is binned the same way)
with under/overflow bins and per-bin sums, an opt-in KLL quantile sketch, category counts (exact up to a
cap, then the most frequent plus an "other" count), and the dataset profile a uniform sample of whole rows
(``sample_rows``, 0 for none). ``merge`` is commutative — exact on shared edges, within one bin's mass on
different edges (see :mod:`mlwarden.profile.rebin`); profiles serialise to versioned bytes.
"""

from mlwarden.profile.column import ColumnProfile
from mlwarden.profile.dataset import DatasetProfile, column_kind, merge, profile
from mlwarden.profile.io import read_table
from mlwarden.profile.serialize import is_profile_file, load_profile

__all__ = [
    "ColumnProfile",
    "DatasetProfile",
    "column_kind",
    "is_profile_file",
    "load_profile",
    "merge",
    "profile",
    "read_table",
]
