"""Cutting current data into chunks: calendar periods with their gaps, runs of rows, one-line errors."""

import numpy as np
import pandas as pd
import pytest

from mlwarden.chunks import split_chunks
from mlwarden.errors import InputError


@pytest.fixture
def frame() -> pd.DataFrame:
    stamps = ["2024-01-01 03:00", "2024-01-03 10:00", "2024-01-01 23:59", None, "2024-01-03 00:00"]
    return pd.DataFrame({"ts": pd.to_datetime(stamps), "x": [5, 4, 3, 2, 1]})


def test_days_keep_the_gap_and_gather_rows_without_a_timestamp(frame):
    chunks = split_chunks(frame, chunk_by="ts", period="1d")
    assert [c.key for c in chunks] == [
        "2024-01-01T00:00:00",
        "2024-01-02T00:00:00",
        "2024-01-03T00:00:00",
        "missing",
    ]
    assert [c.positions.tolist() for c in chunks] == [[0, 2], [], [1, 4], [3]]
    assert [c.gap for c in chunks] == [False, True, False, False]
    assert chunks[0].start == pd.Timestamp("2024-01-01") and chunks[0].end == pd.Timestamp("2024-01-02")
    assert sum(c.rows for c in chunks) == len(frame)  # every row in exactly one chunk


def test_weeks_run_monday_to_sunday_and_text_timestamps_are_parsed(frame):
    text = frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%d %H:%M"))
    chunks = split_chunks(text, chunk_by="ts", period="1w")
    assert chunks[0].start == pd.Timestamp("2024-01-01") and chunks[0].end == pd.Timestamp("2024-01-08")
    assert chunks[0].positions.tolist() == [0, 1, 2, 4] and chunks[1].key == "missing"


def test_twelve_hours_and_an_aware_column_in_its_own_wall_time(frame):
    aware = frame.assign(ts=frame["ts"].dt.tz_localize("Europe/Paris"))
    chunks = split_chunks(aware, chunk_by="ts", period="12h")
    assert len(chunks) == 6 and chunks[1].key == "2024-01-01T12:00:00"
    assert chunks[1].positions.tolist() == [2]


def test_runs_of_rows_in_column_order_the_last_one_shorter(frame):
    chunks = split_chunks(frame, chunk_by="x", chunk_size=2)
    assert [c.positions.tolist() for c in chunks] == [[4, 3], [2, 1], [0]]
    assert (chunks[0].start, chunks[0].end, chunks[2].rows) == (1, 2, 1)
    by_row = split_chunks(frame, chunk_size=3)
    assert [(c.key, c.start, c.end) for c in by_row] == [("0", 0, 2), ("1", 3, 4)]


def test_an_empty_frame_is_one_empty_chunk(frame):
    chunks = split_chunks(frame.iloc[:0], chunk_size=10)
    assert len(chunks) == 1 and chunks[0].rows == 0 and not chunks[0].gap


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"chunk_by": "ts"},
            "chunks: give a period (--period, e.g. 1d) or a chunk size (--chunk-size N): none",
        ),
        ({"chunk_by": "ts", "period": "1d", "chunk_size": 5}, "one of them, not both"),
        (
            {"chunk_by": "nope", "chunk_size": 5},
            "chunk_by: no column 'nope' in current data (columns: ts, x)",
        ),
        ({"chunk_by": "ts", "period": "1 fortnight"}, "period: expected a number and a unit"),
        ({"chunk_by": "ts", "period": "0d"}, "got '0d'"),
        ({"period": "1d"}, "period: needs chunk_by"),
        ({"chunk_by": "x", "period": "1d"}, "chunk_by 'x': a period needs timestamps, got int64 values"),
        ({"chunk_size": 0}, "chunk_size: expected a whole number of rows ≥ 1, got 0"),
        ({"chunk_size": 2.5}, "got 2.5"),
    ],
)
def test_bad_chunking_is_one_line_naming_the_field(frame, kwargs, message):
    with pytest.raises(InputError) as error:
        split_chunks(frame, **kwargs)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_text_that_is_not_a_timestamp_is_an_error():
    with pytest.raises(InputError, match="chunk_by 'ts': a period needs timestamps, got values like 'soon'"):
        split_chunks(pd.DataFrame({"ts": ["soon", "later"]}), chunk_by="ts", period="1d")
    assert np.array_equal(split_chunks(pd.DataFrame({"ts": []}), chunk_size=1)[0].positions, [])
