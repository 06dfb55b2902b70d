"""Property tests: merge is associative, commutative and equal to profiling the concatenation; profiles on
different edges merge within the documented error bound. Derandomized: every run draws the same examples."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import mlwarden as mw

floats = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")), st.just(float("inf")))
labels = st.one_of(st.sampled_from(["a", "b", "c", "d"]), st.none())
DETERMINISTIC = {"deadline": None, "derandomize": True, "database": None}


@st.composite
def frames(draw, min_size=0):
    n = draw(st.integers(min_size, 40))
    return pd.DataFrame(
        {
            "x": draw(st.lists(floats, min_size=n, max_size=n)),
            "c": pd.Series(draw(st.lists(labels, min_size=n, max_size=n)), dtype=object),
        }
    )


REFERENCE = mw.profile(pd.DataFrame({"x": np.linspace(-1e5, 1e5, 101), "c": ["a"] * 101}), seed=0)


def summary(p):
    x, c = p["x"], p["c"]
    numbers = (x.kind, x.count, x.missing)
    if x.is_numeric:
        numbers += (x.nonfinite, x.moments.n, x.hist.tolist(), x.min, x.max)
    return {"rows": p.rows, "x": numbers, "c": (c.kind, c.count, c.missing, sorted(c.categories.items()))}


def close(a, b):
    return np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True)


def assert_same(p, q):
    s, t = summary(p), summary(q)
    assert s["rows"] == t["rows"] and s["c"] == t["c"]
    assert s["x"][:6] == t["x"][:6]
    assert np.array_equal(s["x"][6:], t["x"][6:], equal_nan=True)
    assert close(p["x"].mean, q["x"].mean) and close(p["x"].m2, q["x"].m2)


@settings(max_examples=150, **DETERMINISTIC)
@given(frames(), frames())
def test_merge_equals_profile_of_concatenation(a, b):
    merged = mw.profile(a, reference=REFERENCE, seed=1).merge(mw.profile(b, reference=REFERENCE, seed=2))
    whole = mw.profile(pd.concat([a, b], ignore_index=True), reference=REFERENCE, seed=3)
    assert_same(merged, whole)


@settings(max_examples=100, **DETERMINISTIC)
@given(frames(), frames(), frames())
def test_merge_is_associative_and_commutative(a, b, c):
    pa, pb, pc = (mw.profile(f, reference=REFERENCE, seed=i) for i, f in enumerate((a, b, c)))
    left = pa.merge(pb).merge(pc)
    assert_same(left, pa.merge(pb.merge(pc)))
    assert_same(left, pc.merge(pa).merge(pb))
    assert_same(left, mw.merge([pb, pc, pa]))


@settings(max_examples=50, **DETERMINISTIC)
@given(frames(min_size=1))
def test_serialisation_preserves_every_field(a):
    p = mw.profile(a, reference=REFERENCE, sketch=True, seed=0)
    assert_same(p, mw.DatasetProfile.from_bytes(p.to_bytes()))


@st.composite
def value_arrays(draw):
    n = draw(st.integers(1, 300))
    discrete = draw(st.booleans())
    values = st.integers(-5, 5).map(float) if discrete else st.floats(-1e3, 1e3, allow_nan=False)
    return np.array(draw(st.lists(values, min_size=n, max_size=n)))


@settings(max_examples=150, **DETERMINISTIC)
@given(st.lists(value_arrays(), min_size=2, max_size=4), st.integers(2, 30))
def test_differently_binned_parts_merge_within_the_bound(parts, bins):
    """Each part on its own edges: counts, min/max and moments stay exact; the merged CDF at every merged edge
    is within (largest single-bin share of any part) + parts / (2 n) of the empirical CDF of all values."""
    profiles = [mw.profile(pd.DataFrame({"x": x}), bins=bins, sample_rows=0)["x"] for x in parts]
    merged = mw.merge(
        [mw.profile(pd.DataFrame({"x": x}), bins=bins, sample_rows=0) for x in reversed(parts)]
    )["x"]
    every = np.concatenate(parts)
    n = every.size
    assert merged.count == n and merged.hist.sum() == n and merged.hist.min() >= 0
    assert merged.min == every.min() and merged.max == every.max()
    assert close(merged.mean, np.mean(every)) and np.isclose(
        merged.variance, np.var(every), rtol=1e-9, atol=1e-9
    )
    assert merged.edges.size <= max(101, *(p.edges.size for p in profiles))
    bound = max((p.hist / p.hist.sum()).max() for p in profiles) + len(parts) / (2 * n)
    below = np.cumsum(merged.hist)[:-1] / n  # the merged histogram's share of values below each edge
    truth = (every[None, :] < merged.edges[:, None]).mean(axis=1)
    assert np.all(np.abs(below - truth)[:-1] <= bound + 1e-12)
    if merged.edges.size > 1:  # edges span min to max: nothing under- or overflows
        assert merged.hist[0] == 0 and merged.hist[-1] == 0
    commuted = mw.merge([mw.profile(pd.DataFrame({"x": x}), bins=bins, sample_rows=0) for x in parts])["x"]
    assert np.array_equal(commuted.edges, merged.edges) and np.array_equal(commuted.hist, merged.hist)
