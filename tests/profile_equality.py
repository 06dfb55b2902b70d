"""Profiles that must be equal: a streamed or distributed profile against the single-process one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlwarden.profile import DatasetProfile


def assert_same_profile(a: DatasetProfile, b: DatasetProfile) -> None:
    """Counts, histograms, categories and the row sample exactly; moments within float rounding."""
    assert a.rows == b.rows
    assert list(a.columns) == list(b.columns)
    for name, x in a.columns.items():
        y = b.columns[name]
        assert (x.kind, x.count, x.missing, x.nonfinite) == (y.kind, y.count, y.missing, y.nonfinite), name
        if x.is_numeric:
            assert (x.min, x.max) == (y.min, y.max), name
            np.testing.assert_array_equal(x.edges, y.edges, err_msg=name)
            np.testing.assert_array_equal(x.hist, y.hist, err_msg=name)
            np.testing.assert_allclose(x.bin_sums, y.bin_sums, rtol=1e-9, atol=1e-9, err_msg=name)
            assert x.mean == pytest.approx(y.mean, rel=1e-12, abs=1e-12), name
            assert x.variance == pytest.approx(y.variance, rel=1e-9), name
        else:
            assert (x.categories, x.other, x.capped) == (y.categories, y.other, y.capped), name
    np.testing.assert_array_equal(a.sample_keys, b.sample_keys)  # the same rows, in data order
    pd.testing.assert_frame_equal(a.sample, b.sample)


def mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "normal": rng.normal(size=n),
            "count": rng.integers(0, 5, n),
            "city": rng.choice(["oslo", "lima", "pune"], n),
            "gappy": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(size=n)),
            "flag": rng.random(n) < 0.3,
        }
    )
    frame.loc[5, "normal"] = np.inf
    return frame
