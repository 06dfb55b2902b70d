"""What ``Warden.log``/``log_labels`` accept, as the server receives it, and how rejected input is counted.

Every input flavour below holds the same three rows; each must reach the ingestion server (a real HTTP server
in a thread, tests/client/ingest_server.py) as the same records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from ingest_server import Ingest

from mlwarden.client import Warden
from mlwarden.errors import InputError

STAMPS = [datetime(2024, 5, 1, 12, minute, tzinfo=UTC) for minute in range(3)]
FEATURES = [
    {"age": 30, "plan": "free", "income": 1.5},
    {"age": 51, "plan": None, "income": None},
    {"age": None, "plan": "pro", "income": 2.0},
]
PREDICTIONS, SCORES, IDS = [0, 1, 1], [0.25, 0.75, 0.5], ["a", "b", "c"]
SHUFFLED = [10, 2, 7]  # an index that pandas alignment would reorder; the client aligns by position


def arrow(values: list[Any], kind: pa.DataType) -> pd.Series:
    return pd.Series(values, dtype=pd.ArrowDtype(kind), index=SHUFFLED)


FLAVOURS: dict[str, Callable[[], dict[str, Any]]] = {
    "lists": lambda: {
        "features": [dict(row) for row in FEATURES],
        "prediction": list(PREDICTIONS),
        "score": list(SCORES),
        "id": list(IDS),
        "timestamp": list(STAMPS),
    },
    "numpy": lambda: {
        "features": pd.DataFrame(FEATURES),
        "prediction": np.array(PREDICTIONS),
        "score": np.array(SCORES),
        "id": np.array(IDS),
        "timestamp": np.array([s.replace(tzinfo=None) for s in STAMPS], dtype="datetime64[us]"),
    },
    "series with a shuffled index": lambda: {
        "features": pd.DataFrame(FEATURES, index=SHUFFLED[::-1]),
        "prediction": pd.Series(PREDICTIONS, index=SHUFFLED),
        "score": pd.Series(SCORES, index=SHUFFLED[::-1]),
        "id": pd.Series(IDS, index=SHUFFLED),
        "timestamp": pd.Series(pd.DatetimeIndex(STAMPS), index=SHUFFLED),
    },
    "pandas arrow-backed": lambda: {
        "features": pd.DataFrame(
            {
                "age": pd.array([30, 51, None], dtype="int64[pyarrow]"),
                "plan": pd.Series(["free", None, "pro"], dtype="string[pyarrow]", index=SHUFFLED),
                "income": arrow([1.5, None, 2.0], pa.float64()),
            }
        ),
        "prediction": pd.array(PREDICTIONS, dtype="int64[pyarrow]"),
        "score": arrow(SCORES, pa.float64()),
        "id": pd.Series(IDS, dtype="string[pyarrow]", index=SHUFFLED),
        "timestamp": arrow(STAMPS, pa.timestamp("us", tz="UTC")),
    },
    "pandas nullable and categorical": lambda: {
        "features": pd.DataFrame(
            {
                "age": pd.array([30, 51, None], dtype="Int64"),
                "plan": pd.Categorical(["free", None, "pro"]),
                "income": pd.array([1.5, None, 2.0], dtype="Float64"),
            }
        ),
        "prediction": pd.array(PREDICTIONS, dtype="Int64"),
        "score": pd.array(SCORES, dtype="Float64"),
        "id": pd.array(IDS, dtype="string"),
        "timestamp": pd.DatetimeIndex(STAMPS).tz_convert("Europe/Paris"),
    },
    "dict of columns": lambda: {
        "features": {
            "age": [30, 51, None],
            "plan": pd.Series(["free", None, "pro"], index=SHUFFLED),
            "income": np.array([1.5, np.nan, 2.0]),
        },
        "prediction": PREDICTIONS,
        "score": SCORES,
        "id": IDS,
        "timestamp": [s.timestamp() for s in STAMPS],  # epoch seconds
    },
    "pyarrow": lambda: {
        "features": pa.table(
            {
                "age": pa.array([30, 51, None]),
                "plan": pa.array(["free", None, "pro"]),
                "income": pa.array([1.5, None, 2.0]),
            }
        ),
        "prediction": pa.array(PREDICTIONS),
        "score": pa.chunked_array([SCORES[:1], SCORES[1:]]),
        "id": pa.array(IDS),
        "timestamp": pa.array(STAMPS, pa.timestamp("us", tz="UTC")),
    },
}


def received(server: Ingest, key: str = "records") -> list[dict[str, Any]]:
    return server.rows(key)


def instant(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


@pytest.mark.parametrize("wire", ["arrow", "json"])
@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_every_input_flavour_arrives_as_the_same_records(
    server: Ingest, make_warden: Callable[..., Warden], flavour: str, wire: str
) -> None:
    warden = make_warden(server.url, wire=wire)
    warden.log("churn", **FLAVOURS[flavour]())
    assert warden.flush(timeout=3)
    records = received(server)
    assert [r["features"] for r in records] == FEATURES
    assert [r["prediction"] for r in records] == PREDICTIONS
    assert [r["score"] for r in records] == SCORES
    assert [r["id"] for r in records] == IDS
    assert [instant(r["timestamp"]) for r in records] == STAMPS
    assert isinstance(records[1]["prediction"], int)  # never turned into 1.0
    stats = warden.stats
    assert (stats.logged, stats.sent, stats.errors, stats.rejected) == (3, 3, 0, {})


@pytest.mark.parametrize(
    "scores",
    [
        np.array([[0.2, 0.8], [0.6, 0.4]]),
        pd.DataFrame({"no": [0.2, 0.6], "yes": [0.8, 0.4]}, index=[5, 1]),
        pd.DataFrame({"no": [0.2, 0.6], "yes": [0.8, 0.4]}, dtype="float64[pyarrow]"),
        [[0.2, 0.8], [0.6, 0.4]],
        pd.Series([np.array([0.2, 0.8]), np.array([0.6, 0.4])]),
        pd.Series([[0.2, 0.8], [0.6, 0.4]], dtype=pd.ArrowDtype(pa.list_(pa.float64()))),
    ],
    ids=["ndarray", "frame", "arrow frame", "list of lists", "series of arrays", "arrow list series"],
)
def test_per_class_scores_in_every_two_dimensional_form(
    server: Ingest, make_warden: Callable[..., Warden], scores: Any
) -> None:
    warden = make_warden(server.url)
    warden.log("m", pd.DataFrame({"x": [1, 2]}), prediction=["yes", "no"], score=scores)
    assert warden.flush(timeout=3)
    assert [r["score"] for r in received(server)] == [[0.2, 0.8], [0.6, 0.4]]
    assert warden.stats.rejected == {}


def test_non_finite_scores_become_null_in_every_form(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url)
    frame = pd.DataFrame({"x": [1, 2, 3]})
    warden.log("m", frame, score=np.array([[np.nan, 1.0], [np.inf, 0.0], [0.5, 0.5]]))
    warden.log("m", frame, score=pd.Series([np.inf, None, 0.5], dtype="float64[pyarrow]"))
    warden.log("m", frame, score=[float("nan"), -float("inf"), 0.5])
    assert warden.flush(timeout=3)
    assert [r["score"] for r in received(server)] == [
        [None, 1.0],
        [None, 0.0],
        [0.5, 0.5],
        None,
        None,
        0.5,
        None,
        None,
        0.5,
    ]


def test_one_record_takes_scalars_of_every_kind(server: Ingest, make_warden: Callable[..., Warden]) -> None:
    warden = make_warden(server.url, wire="json")
    stamp = STAMPS[0]
    warden.log("m", {"x": np.float32(0.5)}, prediction=np.int64(1), score=pa.scalar(0.9), id=np.str_("r1"))
    warden.log("m", {"x": 1}, prediction=pa.scalar("yes"), id=7, timestamp=pd.Timestamp(stamp))
    warden.log("m", pd.DataFrame({"x": [2]}), prediction=0, score=0.1, id="r3", timestamp=stamp.timestamp())
    naive = np.datetime64(stamp.replace(tzinfo=None), "s")
    warden.log("m", {"x": 3}, score=[0.3, 0.7], id=np.float64(4.0), timestamp=naive)
    assert warden.flush(timeout=3)
    records = received(server)
    assert [r["prediction"] for r in records] == [1, "yes", 0, None]
    assert [r["score"] for r in records] == [0.9, None, 0.1, [0.3, 0.7]]
    assert [r["id"] for r in records] == ["r1", "7", "r3", "4"]
    assert [instant(r["timestamp"]) for r in records[1:]] == [stamp] * 3
    assert warden.stats.rejected == {}


@pytest.mark.parametrize(
    ("ids", "labels"),
    [
        (["a", "b", "c"], [1, 0, 1]),
        (np.array(["a", "b", "c"]), np.array([1, 0, 1])),
        (pd.Series(["a", "b", "c"], index=SHUFFLED), pd.Series([1, 0, 1], index=SHUFFLED[::-1])),
        (pd.array(["a", "b", "c"], dtype="string[pyarrow]"), pd.array([1, 0, 1], dtype="int64[pyarrow]")),
        (pd.Series(["a", "b", "c"], dtype="string[pyarrow]"), pd.Series([1, 0, 1], dtype="Int64")),
        (pa.array(["a", "b", "c"]), pa.array([1, 0, 1])),
        (pd.Index(["a", "b", "c"]), (1, 0, 1)),
    ],
    ids=["lists", "numpy", "shuffled series", "arrow arrays", "arrow and nullable", "pyarrow", "index"],
)
def test_labels_in_every_flavour(
    server: Ingest, make_warden: Callable[..., Warden], ids: Any, labels: Any
) -> None:
    warden = make_warden(server.url)
    warden.log_labels("m", ids, labels, timestamp=STAMPS[0])
    assert warden.flush(timeout=3)
    assert [(r["id"], r["label"]) for r in received(server, "labels")] == [("a", 1), ("b", 0), ("c", 1)]
    assert {instant(r["timestamp"]) for r in received(server, "labels")} == {STAMPS[0]}


def test_integer_ids_that_a_nan_made_float_still_join(
    server: Ingest, make_warden: Callable[..., Warden], caplog: pytest.LogCaptureFixture
) -> None:
    warden = make_warden(server.url)
    ids = pd.Series([101, None, 103], dtype="float64")  # what pandas makes of integer ids with a gap
    with caplog.at_level(logging.WARNING, logger="mlwarden.client"):
        warden.log("m", pd.DataFrame({"x": [1, 2, 3]}), id=ids)
        warden.log_labels("m", ids.to_numpy(), [1, 0, 1])
    assert warden.flush(timeout=3)
    assert [r["id"] for r in received(server)] == ["101", "103"]
    assert [r["id"] for r in received(server, "labels")] == ["101", "103"]
    assert warden.stats.rejected == {"missing_id": 2} and warden.stats.rejected_rows == {"missing_id": 2}
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2  # one per call kind and field: log's "id", log_labels' "ids"
    assert "[missing_id]" in messages[0] and "id: expected an id, not None/NaN/NA" in messages[0]
    assert "ids: expected an id" in messages[1]


FRAME2 = pd.DataFrame({"x": [1.0, 2.0]})
REJECTIONS: list[tuple[str, Callable[[Warden], None], str, int, str]] = [
    # (case, call, reason, rows rejected, text the warning must hold: field and what was expected)
    (
        "3 predictions for 2 rows",
        lambda w: w.log("m", FRAME2, prediction=[1, 0, 1]),
        "length_mismatch",
        2,
        "prediction: expected 2 values (one per row), got 3",
    ),
    (
        "labels shorter than ids",
        lambda w: w.log_labels("m", pd.array(["a", "b"], dtype="string[pyarrow]"), pd.Series([1])),
        "length_mismatch",
        2,
        "labels: expected 2 values (one per row), got 1",
    ),
    (
        "dict of columns of different lengths",
        lambda w: w.log("m", {"x": [1, 2, 3], "y": np.array([1.0, 2.0])}),
        "length_mismatch",
        3,
        "features: columns of different lengths {'x': 3, 'y': 2}",
    ),
    (
        "an (n, 1) prediction",
        lambda w: w.log("m", FRAME2, prediction=np.array([[1], [0]])),
        "wrong_shape",
        2,
        "prediction: expected an array of shape (n,) (.ravel() an (n, 1) array), got shape (2, 1)",
    ),
    (
        "a DataFrame as ids",
        lambda w: w.log("m", FRAME2, id=pd.DataFrame({"a": ["x", "y"]})),
        "wrong_shape",
        2,
        "id: expected one value per row, got a DataFrame (2, 1)",
    ),
    (
        "one prediction for two rows",
        lambda w: w.log("m", FRAME2, prediction=1),
        "unsupported_type",
        2,
        "prediction: expected one value per row for 2 rows (a list, array or Series), got a single int",
    ),
    (
        "features that are no rows",
        lambda w: w.log("m", 42),
        "unsupported_type",
        1,
        "features: expected a mapping (one row), a DataFrame, a dict of columns",
    ),
    (
        "a set of ids",
        lambda w: w.log_labels("m", {"a", "b"}, [1, 0]),
        "unsupported_type",
        1,
        "ids: expected one id or a list/array/Series of ids, got set",
    ),
    (
        "a cell with no JSON form",
        lambda w: w.log("m", [{"x": 1}, {"x": object()}]),
        "bad_value",
        1,
        "features: expected one mapping per row whose values have a JSON form",
    ),
    (
        "a score that is text",
        lambda w: w.log("m", FRAME2, score=["high", 0.3]),
        "bad_score",
        1,
        "score: expected a number, or a list of numbers (one per class)",
    ),
    (
        "epoch milliseconds",
        lambda w: w.log("m", FRAME2, timestamp=np.array([1.7e12, 1.7e9])),
        "bad_timestamp",
        1,
        "timestamp: expected a datetime, an ISO-8601 string or epoch seconds, from 1900 to 2200 (UTC)",
    ),
    (
        "epoch milliseconds for one row",
        lambda w: w.log("m", {"x": 1}, timestamp=1.7e12),
        "bad_timestamp",
        1,
        "timestamp: expected a datetime, an ISO-8601 string or epoch seconds, from 1900 to 2200 (UTC)",
    ),
    (
        "text that is not an ISO-8601 time",  # the server would refuse the whole batch for it
        lambda w: w.log("m", FRAME2, timestamp=["yesterday", "2026-11-30T08:00:00Z"]),
        "bad_timestamp",
        1,
        "timestamp: expected a datetime, an ISO-8601 string or epoch seconds, from 1900 to 2200 (UTC)",
    ),
    (
        "times the server does not accept",
        lambda w: w.log("m", FRAME2, timestamp=["9999-12-31T00:00:00Z", datetime(1850, 1, 1, tzinfo=UTC)]),
        "bad_timestamp",
        2,
        "timestamp: expected a datetime, an ISO-8601 string or epoch seconds, from 1900 to 2200 (UTC)",
    ),
    (
        "epoch seconds past 2200",
        lambda w: w.log("m", {"x": 1}, timestamp=8e9),
        "bad_timestamp",
        1,
        "timestamp: expected a datetime, an ISO-8601 string or epoch seconds, from 1900 to 2200 (UTC)",
    ),
    (
        "a label time that is not ISO-8601",
        lambda w: w.log_labels("m", ["a", "b"], [1, 0], timestamp=["2026-11-30T08:00:00Z", "2026-02-30"]),
        "bad_timestamp",
        1,
        "timestamp: expected a datetime, an ISO-8601 string or epoch seconds, from 1900 to 2200 (UTC)",
    ),
    (
        "per-class scores that are text",
        lambda w: w.log("m", FRAME2, score=pd.DataFrame({"no": ["a", "b"], "yes": [0.5, 0.5]})),
        "unsupported_type",
        2,
        "score: expected numeric columns (one per class), got ['float64', 'str']",
    ),
    (
        "a NUL in a text feature",  # the server would refuse the whole batch for it
        lambda w: w.log("m", pd.DataFrame({"plan": ["free", "pro\x00"], "x": [1.0, 2.0]})),
        "bad_text",
        1,
        "features: expected feature names without control characters, and text values without a NUL",
    ),
    (
        "a NUL in an Arrow-backed text feature",
        lambda w: w.log("m", {"plan": pd.array(["a\x00", None], dtype="string[pyarrow]")}),
        "bad_text",
        1,
        "features: expected feature names without control characters",
    ),
    (
        "a NUL in one row's feature",
        lambda w: w.log("m", {"plan": "\x00"}),
        "bad_text",
        1,
        "features: expected feature names without control characters",
    ),
    (
        "a feature name with a control character",
        lambda w: w.log("m", [{"x": 1}, {"x": 2, "bad\tname": 3}]),
        "bad_text",
        1,
        "features: expected feature names without control characters",
    ),
    (
        "a frame column name with a control character",
        lambda w: w.log("m", pd.DataFrame({"x": [1, 2], "a\nb": [3, 4]})),
        "bad_text",
        2,
        "features: expected feature names without control characters",
    ),
    (
        "a NUL in a prediction",
        lambda w: w.log("m", FRAME2, prediction=np.array(["yes", "n\x00o"])),
        "bad_text",
        1,
        "prediction: expected text without a NUL character (\\u0000)",
    ),
    (
        "a NUL in an id",
        lambda w: w.log("m", FRAME2, id=["a", "b\x00"]),
        "bad_text",
        1,
        "id: expected text without a NUL character (\\u0000)",
    ),
    (
        "a NUL in one row's id",
        lambda w: w.log("m", {"x": 1}, id="b\x00"),
        "bad_text",
        1,
        "id: expected text without a NUL character (\\u0000)",
    ),
    (
        "a NUL in a label",
        lambda w: w.log_labels("m", ["a", "b"], pd.Series(["yes", "\x00"], dtype=object)),
        "bad_text",
        1,
        "label: expected text without a NUL character (\\u0000)",
    ),
    (
        "a prediction longer than the server stores",  # the server would refuse the whole batch for it
        lambda w: w.log("m", FRAME2, prediction=["yes", "n" * 201]),
        "long_text",
        1,
        "prediction: expected text of at most 200 characters",
    ),
    (
        "a label longer than the server stores",
        lambda w: w.log_labels("m", ["a", "b"], ["x" * 300, 1]),
        "long_text",
        1,
        "label: expected text of at most 200 characters",
    ),
    (
        "a NaN id",
        lambda w: w.log("m", FRAME2, id=np.array([np.nan, 7.0])),
        "missing_id",
        1,
        "id: expected an id, not None/NaN/NA",
    ),
    (
        "an NA label id",
        lambda w: w.log_labels("m", pd.array(["a", None], dtype="string[pyarrow]"), [1, 0]),
        "missing_id",
        1,
        "ids: expected an id, not None/NaN/NA",
    ),
    (
        "an id too long",
        lambda w: w.log("m", FRAME2, id=["x" * 201, "ok"]),
        "bad_id",
        1,
        "id: expected an id of 1 to 200 characters",
    ),
    (
        "no model name",
        lambda w: w.log("", FRAME2),
        "bad_model",
        1,
        "model: expected a non-empty model name, got ''",
    ),
]


@pytest.mark.parametrize(
    ("call", "reason", "rows", "text"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_each_rejection_is_counted_by_reason_and_warned_once(
    server: Ingest,
    make_warden: Callable[..., Warden],
    caplog: pytest.LogCaptureFixture,
    call: Callable[[Warden], None],
    reason: str,
    rows: int,
    text: str,
) -> None:
    warden = make_warden(server.url)
    with caplog.at_level(logging.DEBUG, logger="mlwarden.client"):
        call(warden)  # never raises
        call(warden)
    assert warden.flush(timeout=3)
    stats = warden.stats
    assert stats.rejected == {reason: 2}
    assert stats.rejected_rows == {reason: 2 * rows}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings  # the repeat is logged at DEBUG only
    assert f"[{reason}]" in warnings[0] and text in warnings[0]
    assert sum(r.levelno == logging.DEBUG and f"[{reason}]" in r.getMessage() for r in caplog.records) == 1
    kept = len(received(server)) + len(received(server, "labels"))
    assert stats.logged == kept == stats.sent  # rows not rejected still went through


def test_a_call_after_close_is_counted_as_closed(
    server: Ingest, make_warden: Callable[..., Warden], caplog: pytest.LogCaptureFixture
) -> None:
    warden = make_warden(server.url)
    warden.close()
    with caplog.at_level(logging.WARNING, logger="mlwarden.client"):
        warden.log("m", FRAME2)
    assert warden.stats.rejected == {"closed": 1} and warden.stats.rejected_rows == {"closed": 2}
    assert "the Warden is closed" in caplog.records[0].getMessage()


def test_rows_lost_for_several_reasons_in_one_call_are_counted_once_each(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url)
    frame = pd.DataFrame({"x": [1, 2, 3, 4]})
    warden.log("m", frame, id=[None, "b", "c", None], score=[0.1, "no", 0.3, "no"])
    assert warden.flush(timeout=3)
    assert [r["id"] for r in received(server)] == ["c"]
    stats = warden.stats
    assert stats.rejected == {"missing_id": 1, "bad_score": 1}  # the call lost rows for two reasons
    assert stats.rejected_rows == {"missing_id": 2, "bad_score": 1}  # row 4 counted once, under its id
    assert stats.errors == 3 and stats.logged == 1


def test_strict_raises_input_error_and_queues_nothing(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url, strict=True)
    with pytest.raises(InputError, match=r"^prediction: expected 2 values \(one per row\), got 3$"):
        warden.log("m", FRAME2, prediction=[1, 0, 1])
    with pytest.raises(InputError, match=r"^id: expected an id, not None/NaN/NA$"):
        warden.log("m", FRAME2, id=["a", None])  # one bad row refuses the whole call
    warden.log("m", FRAME2, prediction=[1, 0])
    assert warden.flush(timeout=3)
    assert [r["prediction"] for r in received(server)] == [1, 0]
    assert warden.stats.rejected == {"length_mismatch": 1, "missing_id": 1}
    assert warden.stats.rejected_rows == {"length_mismatch": 2, "missing_id": 2}


def test_the_client_accepts_the_times_the_server_accepts() -> None:
    """One row the server refuses would cost its whole batch: the client's bounds are the server's."""
    from mlwarden.client import records
    from mlwarden.server import limits
    from mlwarden.store.schema import Label, Prediction

    assert (records.EARLIEST, records.LATEST) == (limits.EARLIEST, limits.LATEST)
    assert records.CONTROL.pattern == limits.CONTROL.pattern
    stored = {limits.text_limit(Prediction.prediction), limits.text_limit(Label.label)}
    assert stored == {records.MAX_TEXT_LENGTH}
