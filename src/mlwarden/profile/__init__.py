"""Profiles: mergeable, columnar summaries of data — raw rows need not be kept.

A column profile holds count, missing and non-finite counts, exact min/max, mean and variance (merged with
Chan's formula), a histogram on quantile bin edges (the reference's, so current data is binned the same
way) with under/overflow bins, a KLL quantile sketch where no reference edges exist, category counts (exact
up to a cap, then the most frequent plus an "other" count), and the dataset profile a uniform reservoir
sample of whole rows. ``merge`` is associative and commutative; profiles serialise to versioned bytes.
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
