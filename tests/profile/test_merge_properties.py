"""Property tests: merge is associative, commutative and equal to profiling the concatenation."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import mlwarden as mw

floats = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")), st.just(float("inf")))
labels = st.one_of(st.sampled_from(["a", "b", "c", "d"]), st.none())


@st.composite
def frames(draw, min_size=0):
    n = draw(st.integers(min_size, 40))
    return pd.DataFrame(
        {
            "x": draw(st.lists(floats, min_size=n, max_size=n)),
            "c": pd.Series(draw(st.lists(labels, min_size=n, max_size=n)), dtype=object),
        }
    )


REFERENCE = mw.profile(pd.DataFrame({"x": np.linspace(-1e5, 1e5, 101), "c": ["a"] * 101}))


def summary(p):
    x, c = p["x"], p["c"]
    return {
        "rows": p.rows,
        "x": (x.count, x.missing, x.nonfinite, x.moments.n, x.hist.tolist(), x.min, x.max),
        "c": (c.count, c.missing, sorted(c.categories.items())),
    }


def close(a, b):
    return np.isclose(a, b, rtol=1e-9, atol=1e-6, equal_nan=True)


def assert_same(p, q):
    s, t = summary(p), summary(q)
    assert s["rows"] == t["rows"] and s["c"] == t["c"]
    assert s["x"][:5] == t["x"][:5]
    assert np.array_equal(s["x"][5:], t["x"][5:], equal_nan=True)
    assert close(p["x"].mean, q["x"].mean) and close(p["x"].m2, q["x"].m2)


@settings(max_examples=150, deadline=None)
@given(frames(), frames())
def test_merge_equals_profile_of_concatenation(a, b):
    merged = mw.profile(a, reference=REFERENCE).merge(mw.profile(b, reference=REFERENCE))
    whole = mw.profile(pd.concat([a, b], ignore_index=True), reference=REFERENCE)
    assert_same(merged, whole)


@settings(max_examples=100, deadline=None)
@given(frames(), frames(), frames())
def test_merge_is_associative_and_commutative(a, b, c):
    pa, pb, pc = (mw.profile(f, reference=REFERENCE) for f in (a, b, c))
    left = pa.merge(pb).merge(pc)
    assert_same(left, pa.merge(pb.merge(pc)))
    assert_same(left, pc.merge(pa).merge(pb))


@settings(max_examples=50, deadline=None)
@given(frames(min_size=1))
def test_serialisation_preserves_every_field(a):
    p = mw.profile(a, reference=REFERENCE, sketch=True)
    assert_same(p, mw.DatasetProfile.from_bytes(p.to_bytes()))
