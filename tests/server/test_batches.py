"""Request bodies into batches: ids and timestamps validated the same way for JSON and tables."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.ipc
import pytest

from mlwarden.errors import InputError
from mlwarden.registry import service_mapping
from mlwarden.server import batches

ROLES = service_mapping({"target": "y"})


def arrow(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def both(frame: pd.DataFrame, batch_id: str = "b") -> list[batches.Batch]:
    """The same rows as an Arrow body and as JSON records."""
    records = [
        {
            "id": r.get("id"),
            "timestamp": r.get("timestamp"),
            "features": {"x": r["x"]},
            "prediction": r.get("prediction"),
            "score": r.get("score"),
        }
        for r in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]
    return [
        batches.from_table(arrow(frame), "application/vnd.apache.arrow.stream", batch_id, ROLES),
        batches.from_json({"batch_id": batch_id, "records": records}, ROLES),
    ]


def test_ids_and_times_are_kept_apart_from_the_profiled_columns() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "timestamp": ["2026-03-01T10:00:00+02:00", None],
            "x": [1.0, 2.0],
            "score": [0.1, 0.9],
        }
    )
    for batch in both(frame):
        assert batch.ids.to_pylist() == ["a", "b"]
        assert batch.timestamps.to_pylist() == [datetime(2026, 3, 1, 8, tzinfo=UTC), None]
        assert "id" not in batch.frame and "timestamp" not in batch.frame and "x" in batch.frame


def test_missing_ids_are_generated_from_the_batch_id_and_partial_ids_refused() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "score": [0.1, 0.9]})
    for batch in both(frame, "retry-me"):
        assert batch.ids.to_pylist() == ["retry-me:0", "retry-me:1"]
    frame["id"] = ["a", None]
    for make in (lambda: both(frame)[0], lambda: both(frame)[1]):
        with pytest.raises(InputError, match="id: 1 records have no id"):
            make()


def test_overlong_or_empty_ids_are_refused() -> None:
    for bad in ("", "x" * 201):
        frame = pd.DataFrame({"id": ["ok", bad], "x": [1.0, 2.0], "score": [0.1, 0.9]})
        for make in (lambda f=frame: both(f)[0], lambda f=frame: both(f)[1]):
            with pytest.raises(InputError, match="at most 200 characters"):
                make()


def test_table_timestamps_in_any_zone_are_utc_instants() -> None:
    paris = pd.Series(pd.to_datetime(["2026-03-01 10:00:00.1234567"]).tz_localize("Europe/Paris"))
    naive = pd.Series(pd.to_datetime(["2026-03-01 09:00:00.1234567"]))  # taken as UTC, as in JSON
    for stamps in (paris, naive):
        frame = pd.DataFrame({"id": ["a"], "timestamp": stamps, "x": [1.0]})
        batch = batches.from_frame(frame, ROLES, "b")
        assert batch.timestamps.type == batches.STAMP
        assert batch.timestamps.to_pylist() == [datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)]
    garbage = pd.DataFrame(
        {"id": ["a", "b"], "timestamp": ["2026-03-01T09:00:00Z", "yesterday-ish"], "x": [1.0, 2.0]}
    )
    for batch in (lambda: batches.from_frame(garbage, ROLES, "b"), lambda: both(garbage)[1]):
        with pytest.raises(InputError) as raised:
            batch()
        # the row and the value, not pandas' advice on its own arguments
        assert str(raised.value) == (
            "timestamp: row 1 is 'yesterday-ish', expected an ISO-8601 time such as 2026-11-30T08:00:00Z"
        )


def test_the_sdks_arrow_records_layout_reads_as_its_json() -> None:
    from mlwarden.client.batch import Batch as ClientBatch

    records = [
        {
            "id": "a",
            "timestamp": "2026-03-01T10:00:00Z",
            "features": {"x": 1.5, "plan": "pro"},
            "prediction": 1,
            "score": 0.7,
        },
        {"id": "b", "timestamp": None, "features": {"x": None}, "prediction": 0, "score": None},
    ]
    sent = ClientBatch("batches", "churn", records, batch_id="s-1", fingerprint="fp")
    body, content_type, params = sent.request("arrow")
    assert content_type == "application/vnd.apache.arrow.stream"
    assert params == {"batch_id": "s-1", "layout": "records", "fingerprint": "fp"}
    arrow = batches.from_table(body, content_type, params["batch_id"], ROLES, layout=params["layout"])
    json = batches.from_json(sent.body(), ROLES)
    assert arrow.ids.equals(json.ids) and arrow.timestamps.equals(json.timestamps)
    columns = sorted(json.frame.columns)
    assert sorted(arrow.frame.columns) == columns
    pd.testing.assert_frame_equal(arrow.frame[columns], json.frame[columns], check_dtype=False)

    multiclass = service_mapping({"target": "y", "scores": ["p0", "p1"]})
    rows = [{"features": {"x": 1.0}, "score": [0.2, 0.8]}, {"features": {"x": 2.0}, "score": None}]
    body, content_type, _ = ClientBatch("batches", "m", rows, batch_id="m-1").request("arrow")
    scored = batches.from_table(body, content_type, "m-1", multiclass, layout="records").frame
    assert scored["p1"].tolist()[0] == 0.8 and scored["p0"].isna().tolist() == [False, True]
    body, content_type, _ = ClientBatch("batches", "m", rows[:1], batch_id="m-2").request("arrow")
    with pytest.raises(InputError, match="list of 3 class scores"):
        batches.from_table(
            body, content_type, "m-2", service_mapping({"scores": ["p0", "p1", "p2"]}), layout="records"
        )


def test_class_scores_by_name_read_alike_as_json_objects_and_arrow_structs() -> None:
    land = service_mapping({"scores": {"water": "p_w", "desert": "p_d", "clouds": "p_c"}})
    scores = [
        {"desert": 0.1, "water": 0.7, "clouds": 0.2},
        None,
        {"clouds": 0.5, "desert": 0.25, "water": 0.25},
    ]
    records = [{"features": {"x": 1.0}, "score": s} for s in scores]
    sink = io.BytesIO()
    table = pa.table({"score": pa.array(scores), "features": pa.array([r["features"] for r in records])})
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    arrow = batches.from_table(
        sink.getvalue(), "application/vnd.apache.arrow.stream", "s", land, layout="records"
    )
    json = batches.from_json({"batch_id": "s", "records": records}, land)
    for batch in (arrow, json):
        got = batch.frame[["p_w", "p_d", "p_c"]].to_numpy()
        assert got[0].tolist() == [0.7, 0.1, 0.2] and got[2].tolist() == [0.25, 0.25, 0.5]
        assert pd.isna(got[1]).all()
    wrong = pa.table({"score": pa.array([{"water": 0.5, "snow": 0.5}])})
    sink = io.BytesIO()
    with pyarrow.ipc.new_stream(sink, wrong.schema) as writer:
        writer.write_table(wrong)
    with pytest.raises(
        InputError, match=r"score: expected a field per class \['water', 'desert', 'clouds'\]"
    ):
        batches.from_table(
            sink.getvalue(), "application/vnd.apache.arrow.stream", "s", land, layout="records"
        )


def test_records_the_arrow_wire_cannot_type_go_as_json() -> None:
    from mlwarden.client.batch import Batch as ClientBatch

    mixed = [{"features": {"x": 1.0}}, {"features": {"x": "one"}}]
    body, content_type, params = ClientBatch("batches", "m", mixed, batch_id="j").request("arrow")
    assert content_type == "application/json" and params == {} and b'"one"' in body
    labels = ClientBatch("labels", "m", [{"id": "a", "label": 1}], batch_id="l").request("arrow")
    assert labels[1] == "application/json"
