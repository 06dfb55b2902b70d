"""Per-segment partial profiles: grouping, the cap, merging (hypothesis properties), serialisation."""

import struct
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlwarden as mw
from mlwarden.errors import InputError
from mlwarden.profile import segments
from mlwarden.profile.dataset import numeric_values
from mlwarden.profile.numeric import histogram
from mlwarden.profile.segments import MISSING, OTHER, SEGMENT_BINS, segment_edges

DETERMINISTIC = {"deadline": None, "derandomize": True, "database": None}
REFERENCE = mw.profile(
    pd.DataFrame({"x": np.linspace(-100, 100, 101), "c": ["a"] * 101, "s": ["u"] * 101}), seed=0
)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 6_000
    df = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "c": rng.choice(["a", "b", "c"], n),
            "when": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
            "country": rng.choice(["FR", "DE", "US", "ES"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "plan": rng.choice([1.0, 2.0], n),
        }
    )
    df.loc[::9, "x"] = np.nan
    df.loc[::13, "country"] = None
    return df


@pytest.mark.parametrize("block_values", [segments.BLOCK_VALUES, 1])  # 1: one column per block (big tables)
def test_each_segment_equals_the_profile_of_its_rows(frame, block_values, monkeypatch):
    monkeypatch.setattr(segments, "BLOCK_VALUES", block_values)
    p = mw.profile(frame, segments=["country"], seed=0)
    split = p.segments["country"]
    assert list(split.parts) == ["FR", "DE", "US", "ES", MISSING]  # most frequent first, missing last
    assert sum(split.rows().values()) == len(frame)
    for label, part in split.parts.items():
        rows = frame[frame["country"].isna()] if label == MISSING else frame[frame["country"] == label]
        alone = mw.profile(rows, reference=p, seed=0)  # binned on the whole table's edges, like the part
        assert part.rows == len(rows)
        for name in ("x", "when"):
            a, b = part[name], alone[name]
            assert (a.kind, a.count, a.missing, a.min, a.max) == (b.kind, b.count, b.missing, b.min, b.max)
            assert (
                a.edges.tolist() == segment_edges(p[name].edges).tolist() and a.edges.size == SEGMENT_BINS + 1
            )
            finite = numeric_values(rows[name], a.kind)
            assert a.hist.tolist() == histogram(finite[np.isfinite(finite)], a.edges)[0].tolist()
            assert a.mean == pytest.approx(b.mean, rel=1e-12) and a.m2 == pytest.approx(b.m2, rel=1e-9)
        assert part["c"].categories == alone["c"].categories  # within the whole table's kept categories
        assert part["country"].missing == alone["country"].missing


def test_crossing_only_when_asked_and_the_cap_pools_the_rest(frame):
    p = mw.profile(frame, segments=["country", "plan", ("country", "plan")], segment_cap=3, seed=0)
    assert list(p.segments) == ["country", "plan", "country,plan"]
    assert list(p.segments["plan"].parts) == ["1", "2"] or list(p.segments["plan"].parts) == ["2", "1"]
    crossed = p.segments["country,plan"]
    assert len(crossed.parts) == 5 and OTHER in crossed.parts and MISSING in crossed.parts
    assert sum(crossed.rows().values()) == len(frame)
    fr1 = ((frame["country"] == "FR") & (frame["plan"] == 1.0)).sum()
    assert crossed.rows().get("FR,1") == fr1
    assert crossed.segment("FR,1") == "country,plan=FR,1"


def test_the_mapping_segments_are_used_and_bad_columns_are_named(frame):
    p = mw.profile(frame, mapping=mw.ColumnMapping(segments=["country"]))
    assert list(p.segments) == ["country"]
    with pytest.raises(InputError, match="segments: no column 'nope'"):
        mw.profile(frame, segments=["nope"])
    with pytest.raises(InputError, match="segment_cap"):
        mw.profile(frame, segments=["country"], segment_cap=0)


def test_serialisation_keeps_segments_and_reads_version_3(frame):
    p = mw.profile(frame, segments=["country", ("country", "plan")], seed=0)
    back = mw.DatasetProfile.from_bytes(p.to_bytes())
    assert {n: s.rows() for n, s in back.segments.items()} == {n: s.rows() for n, s in p.segments.items()}
    assert (
        back.segments["country"].parts["FR"]["x"].hist.tolist()
        == p.segments["country"].parts["FR"]["x"].hist.tolist()
    )
    assert back.segments["country,plan"].columns == ("country", "plan")
    # a version-3 file (written before segments existed) still reads, without segments
    v3 = mw.profile(frame, seed=0).to_bytes()
    body = v3[:8] + struct.pack("<H", 3) + v3[10:-4]
    old = mw.DatasetProfile.from_bytes(body + struct.pack("<I", zlib.crc32(body)))
    assert old.rows == len(frame) and old.segments == {}


def test_merge_beyond_the_cap_keeps_the_union_top_values():
    a = pd.DataFrame({"x": np.arange(60.0), "s": ["p"] * 30 + ["q"] * 20 + ["r"] * 10})
    b = pd.DataFrame({"x": np.arange(60.0), "s": ["r"] * 40 + ["q"] * 15 + ["t"] * 5})
    merged = mw.profile(a, segments=["s"], segment_cap=2).merge(mw.profile(b, segments=["s"], segment_cap=2))
    # union rows: p 30, q 35, r 50 (10 of them pooled in a's other), t 5 (pooled in b's other)
    assert merged.segments["s"].rows() == {"q": 35, "r": 40, OTHER: 45}


@st.composite
def frames(draw):
    n = draw(st.integers(0, 40))
    values = st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(float("nan")))
    return pd.DataFrame(
        {
            "x": draw(st.lists(values, min_size=n, max_size=n)),
            "c": pd.Series(
                draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n)), dtype=object
            ),
            "s": pd.Series(
                draw(st.lists(st.sampled_from(["u", "v", "w", None]), min_size=n, max_size=n)), dtype=object
            ),
        }
    )


def per_segment(p):
    out = {}
    for label, part in p.segments["s"].parts.items():
        x, c = part["x"], part["c"]
        hist = x.hist.tolist() if x.is_numeric else None
        out[label] = (part.rows, x.kind, x.count, x.missing, hist, c.kind, sorted(c.categories.items()))
        out[label + ":mean"] = round(x.mean, 6) if x.is_numeric and x.moments.n else None
    return out


def seg_profile(frame, seed):
    return mw.profile(frame, reference=REFERENCE, segments=["s"], seed=seed)


@settings(max_examples=80, **DETERMINISTIC)
@given(frames(), frames())
def test_merge_equals_the_profile_of_the_concatenation_per_segment(a, b):
    merged = seg_profile(a, 1).merge(seg_profile(b, 2))
    whole = seg_profile(pd.concat([a, b], ignore_index=True), 3)
    assert per_segment(merged) == per_segment(whole)


@settings(max_examples=60, **DETERMINISTIC)
@given(frames(), frames(), frames())
def test_segment_merge_is_associative_and_commutative(a, b, c):
    pa, pb, pc = (seg_profile(f, i) for i, f in enumerate((a, b, c)))
    left = per_segment(pa.merge(pb).merge(pc))
    assert left == per_segment(pa.merge(pb.merge(pc)))
    assert left == per_segment(mw.merge([pc, pa, pb]))
