"""Out-of-core profiles: files streamed in chunks equal the in-memory profile, in bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from profile_equality import assert_same_profile, mixed_frame

import mlwarden as mw
from mlwarden.errors import InputError
from mlwarden.profile import profile
from mlwarden.profile.io import read_table
from mlwarden.profile.numeric import EDGE_SAMPLE, EdgeSampler, quantile_edges
from mlwarden.profile.stream import profile_file


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[pd.DataFrame, Path, Path]:
    frame = mixed_frame(150_000)
    folder = tmp_path_factory.mktemp("stream")
    frame.to_parquet(folder / "data.parquet", row_group_size=40_000)
    frame.to_csv(folder / "data.csv", index=False)
    return frame, folder / "data.parquet", folder / "data.csv"


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_streamed_file_equals_in_memory_profile(files, fmt):
    _, parquet, csv = files
    path = parquet if fmt == "parquet" else csv
    whole = profile(pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path), source=str(path))
    assert_same_profile(whole, profile_file(path, chunk_rows=7_000))
    assert_same_profile(whole, mw.profile(path))  # the public entry point streams paths


def test_csv_timestamp_text_is_read_as_timestamps_streamed_as_whole(tmp_path):
    # a column is timestamps only when every chunk's values are: "later" turns to text in its last chunk
    rng = np.random.default_rng(41)
    n = 9_000
    stamps = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s")
    later = pd.Series(stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)
    later.iloc[-1] = "soon"
    frame = pd.DataFrame({"x": rng.normal(size=n), "day": stamps.strftime("%Y-%m-%d"), "later": later})
    frame.loc[rng.random(n) < 0.1, "day"] = None
    path = tmp_path / "times.csv"
    frame.to_csv(path, index=False)
    whole = profile(read_table(path), source=str(path))
    assert [whole[c].kind for c in ("x", "day", "later")] == ["numeric", "datetime", "categorical"]
    assert whole["day"].missing == frame["day"].isna().sum()
    assert_same_profile(whole, profile_file(path, chunk_rows=2_000))


def test_streamed_current_on_reference_edges_equals_in_memory(files):
    frame, parquet, _ = files
    reference = profile(mixed_frame(20_000, seed=1))
    whole = profile(frame, reference=reference)
    streamed = profile_file(parquet, reference=reference, chunk_rows=3_000)  # chunks take the block path
    assert_same_profile(whole, streamed)
    assert np.array_equal(streamed["normal"].edges, reference["normal"].edges)


def test_wide_file_in_small_row_groups_read_together_equals_in_memory(tmp_path):
    rng = np.random.default_rng(3)
    rows = 40_000  # row groups of 8,192 rows read in runs of 32,768 (MIN_CHUNK_ROWS): two chunks
    frame = pd.DataFrame({f"x{i}": rng.normal(i, 1 + i % 3, rows) for i in range(70)})
    frame["gappy"] = np.where(rng.random(rows) < 0.2, np.nan, rng.exponential(size=rows))
    frame["city"] = rng.choice(["oslo", "lima", "pune"], rows)
    frame.loc[7, "x3"] = np.inf
    path = tmp_path / "wide.parquet"
    frame.to_parquet(path, row_group_size=8_192)
    whole = profile(frame, source=str(path))
    streamed = profile_file(path)
    assert_same_profile(whole, streamed)
    cur = frame.iloc[::3].reset_index(drop=True)  # on the reference's edges: no first pass
    cur["x0"] += 0.5
    cur.to_parquet(tmp_path / "cur.parquet", row_group_size=8_192)
    assert_same_profile(
        profile(cur, reference=whole), profile_file(tmp_path / "cur.parquet", reference=whole)
    )


def test_csv_column_numeric_in_one_chunk_and_text_in_another_is_text_as_in_memory(tmp_path):
    codes = [str(i % 7) for i in range(5_000)] + ["x9"] * 10
    path = tmp_path / "codes.csv"
    pd.DataFrame({"code": codes, "v": np.arange(5_010.0)}).to_csv(path, index=False)
    streamed = profile_file(path, chunk_rows=1_000)
    assert streamed["code"].kind == "categorical"
    assert_same_profile(profile(pd.read_csv(path, low_memory=False)), streamed)


def test_categories_are_capped_after_merging_chunks(tmp_path):
    labels = np.array([f"c{i % 50}" for i in range(10_000)])
    path = tmp_path / "labels.parquet"
    pd.DataFrame({"label": labels}).to_parquet(path, row_group_size=1_000)
    whole = profile(pd.DataFrame({"label": labels}), category_cap=10)
    streamed = profile_file(path, category_cap=10, chunk_rows=1_000)
    assert streamed["label"].capped and len(streamed["label"].categories) == 10
    assert streamed["label"].other == 10_000 - 10 * 200
    assert_same_profile(whole, streamed)


def test_edge_sampler_gathers_the_in_memory_subsample():
    rng = np.random.default_rng(3)
    values = rng.lognormal(size=9 * EDGE_SAMPLE + 123)
    sampler = EdgeSampler()
    for chunk in np.array_split(values, 37):
        sampler.add(chunk)
    assert sampler.stride == 8  # thinned as it grew: 9 * EDGE_SAMPLE values keep every 8th value
    expected = quantile_edges(values, 100, values.min(), values.max())
    np.testing.assert_array_equal(sampler.edges(100), expected)
    assert EdgeSampler().edges(100) is None


def test_compare_on_files_streams_and_gives_the_in_memory_verdicts(files, tmp_path):
    frame, parquet, _ = files
    current = mixed_frame(60_000, seed=2)
    current["normal"] += 0.3  # one shifted feature
    current_path = tmp_path / "current.parquet"
    current.to_parquet(current_path, row_group_size=10_000)
    on_files = mw.compare(parquet, current_path)
    in_memory = mw.compare(frame, current)
    drifted = {c.column: c.drifted for c in on_files.drift.features}
    assert drifted == {c.column: c.drifted for c in in_memory.drift.features}
    assert drifted["normal"] and not drifted["gappy"] and not drifted["city"]
    assert [f.check for f in on_files.findings] == [f.check for f in in_memory.findings]


def test_unknown_columns_and_unreadable_files_are_input_errors(files, tmp_path):
    _, parquet, _ = files
    with pytest.raises(InputError, match="columns not in the data: nope"):
        profile_file(parquet, columns=["nope"])
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="cannot read as parquet"):
        profile_file(bad)


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_a_header_naming_a_column_twice_is_an_input_error_not_a_renamed_column(tmp_path, suffix):
    # pandas reads "x,x" as x and x.1: compared silently with another file's real x.1
    sep = "\t" if suffix == ".tsv" else ","
    path = tmp_path / f"dup{suffix}"
    path.write_text(sep.join(["x", "x", "c"]) + "\n" + sep.join(["1.5", "2.5", "a"]) + "\n")
    for read in (profile_file, mw.profile, read_table):
        with pytest.raises(InputError, match=f"dup{suffix}: duplicate column names in the header: x$"):
            read(path)
    with pytest.raises(InputError, match="duplicate column names in the header: x"):
        mw.compare(path, path, target="c")  # the rows are read whole for performance


def test_a_csv_line_with_more_fields_than_the_header_is_an_input_error(tmp_path):
    # read with usecols, pandas dropped the extra fields: "1,2,3,4" under "x,c,y" was x=1, c=2, y=3
    path = tmp_path / "bad.csv"
    path.write_text("x,c,y\n0.5,a,1\n1,2,3,4\n0.7,b,0\n")
    for read in (profile_file, mw.profile):
        with pytest.raises(InputError, match=r"bad\.csv: cannot read as csv: .*Expected 3 fields in line 3"):
            read(path)
    with pytest.raises(InputError, match="Expected 3 fields in line 3, saw 4"):
        mw.compare(path, path, mapping=mw.ColumnMapping(ignore=["y"]))


LIMITED = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import mlwarden as mw

    path, tiny, out, extra, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    mw.profile(tiny)  # warm up: imports, pyarrow's threads

    def address_space():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize"):
                return int(line.split()[1]) * 1024

    limit = address_space() + extra
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        whole = np.ones(size, dtype=np.uint8).sum()  # the file's data in memory at once
    except MemoryError:
        whole = "MemoryError"
    mw.profile(path, seed=7).save(out)
    print(json.dumps({"whole": whole}))
    """
)


def test_profile_of_a_file_several_times_larger_than_the_memory_limit(tmp_path):
    rows, groups = 4_194_304, 64
    rng = np.random.default_rng(11)
    schema = pa.schema([(f"x{i}", pa.float64()) for i in range(6)])
    path = tmp_path / "large.parquet"
    with pq.ParquetWriter(path, schema, compression="none") as writer:  # 200 MB, written in pieces
        for _ in range(groups):
            block = {f"x{i}": rng.normal(i, 1 + i, size=rows // groups) for i in range(6)}
            writer.write_table(pa.table(block, schema=schema))
    tiny = tmp_path / "tiny.parquet"
    pd.DataFrame({"x0": np.arange(10.0)}).to_parquet(tiny)
    in_memory_bytes = rows * 6 * 8
    extra = 48 * 2**20  # the address space may grow by a quarter of the data's size
    assert in_memory_bytes >= 4 * extra
    script = tmp_path / "limited.py"
    script.write_text(LIMITED)
    env = {
        **os.environ,
        "MALLOC_ARENA_MAX": "1",  # no 64 MB arena reservations per thread
        "MALLOC_MMAP_THRESHOLD_": "131072",  # large blocks go back to the system when freed
        "ARROW_DEFAULT_MEMORY_POOL": "system",
        "OPENBLAS_NUM_THREADS": "1",
    }
    out = tmp_path / "large.mwp"
    result = subprocess.run(
        [sys.executable, str(script), str(path), str(tiny), str(out), str(extra), str(in_memory_bytes)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["whole"] == "MemoryError"  # the limit binds: the file does not fit
    assert_same_profile(profile(pd.read_parquet(path), seed=7), mw.load_profile(out))
