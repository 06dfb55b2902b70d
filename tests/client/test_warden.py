"""Warden against a real HTTP server in a thread (tests/client/ingest_server.py): delivery, retries, spool."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ingest_server import Ingest, Reply, wait_until

from mlwarden.client import Stats, Warden
from mlwarden.client.batch import ARROW_STREAM, Batch
from mlwarden.client.spool import Spool


def spool_files(warden: Warden) -> list[Path]:
    return sorted(warden.spool.directory.glob("*.jsonl")) if warden.spool.directory.exists() else []


def test_batches_arrive_with_the_contract_json_shape(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(
        server.url,
        token="s3cret",
        fingerprint="fp1",
        model_version="v7",
        batch_size=100,
        flush_interval=30,
        wire="json",
    )
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    warden.log(
        "churn",
        {
            "age": np.int64(41),
            "income": np.float32(2.5),
            "plan": "pro",
            "gap": float("nan"),
            "seen": stamp,
            "vec": np.array([1.0, np.inf]),
        },
        prediction=np.int64(1),
        score=np.array([0.25, 0.75]),
        id="req-1",
        timestamp=stamp,
    )
    frame = pd.DataFrame({"age": [30, 50], "income": [1.0, np.nan], "plan": ["free", None]})
    warden.log("churn", frame, prediction=np.array([0, 1]), score=np.array([0.1, 0.9]), id=["req-2", "req-3"])
    warden.log_labels("churn", ["req-1", "req-2"], np.array([1, 0]))
    assert warden.flush(timeout=3)

    batch_requests = [r for r in server.requests if r["path"] == "/v1/models/churn/batches"]
    assert len(batch_requests) == 1  # both calls fit in one batch
    request = batch_requests[0]
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    body = request["body"]
    assert set(body) == {"batch_id", "fingerprint", "model_version", "records"}
    assert len(body["batch_id"]) == 32 and int(body["batch_id"], 16) >= 0
    assert (body["fingerprint"], body["model_version"]) == ("fp1", "v7")
    first, second, third = body["records"]
    assert first == {
        "id": "req-1",
        "timestamp": "2024-05-01T12:00:00+00:00",
        "features": {
            "age": 41,
            "income": 2.5,
            "plan": "pro",
            "gap": None,
            "seen": "2024-05-01T12:00:00+00:00",
            "vec": [1.0, None],
        },
        "prediction": 1,
        "score": [0.25, 0.75],
    }
    assert second["features"] == {"age": 30, "income": 1.0, "plan": "free"}
    assert third["features"] == {"age": 50, "income": None, "plan": None}
    assert [second["id"], third["id"], second["score"], third["prediction"]] == ["req-2", "req-3", 0.1, 1]
    assert datetime.fromisoformat(second["timestamp"]).tzinfo is not None  # defaulted to now, UTC

    labels = [r["body"] for r in server.requests if r["path"] == "/v1/models/churn/labels"]
    assert len(labels) == 1 and set(labels[0]) == {"batch_id", "labels"}
    assert [(x["id"], x["label"]) for x in labels[0]["labels"]] == [("req-1", 1), ("req-2", 0)]
    stats = warden.stats
    assert (stats.logged, stats.sent, stats.batches_sent, stats.errors, stats.buffered) == (5, 5, 2, 0, 0)


def test_no_token_means_no_authorization_header_and_ids_default(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url)
    warden.log("m", [{"x": 1}, {"x": 2}])
    assert warden.flush(timeout=3)
    request = server.requests[0]
    assert "Authorization" not in request["headers"]
    ids = [r["id"] for r in request["body"]["records"]]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)


def test_log_never_raises_on_garbage_and_keeps_the_good_rows(
    server: Ingest, make_warden: Callable[..., Warden], caplog: pytest.LogCaptureFixture
) -> None:
    warden = make_warden(server.url)
    with caplog.at_level(logging.WARNING, logger="mlwarden.client"):
        warden.log("m", 42)  # not rows at all
        warden.log("m", None)
        warden.log(None, {"x": 1})  # type: ignore[arg-type]
        warden.log("m", [{"x": 1}, "not a row", {"x": object()}, {"x": 2}], prediction=[1, 2, 3, 4])
        warden.log("m", [{"x": 1}, {"x": 2}], prediction=[1, 2, 3])  # misaligned: nothing can be kept
        warden.log("m", {"x": 1}, score="high")  # not a score
        warden.log("m", {"x": 1}, timestamp=object())
        warden.log("m", {"x": 1}, id="x" * 500)  # longer than the server accepts
        warden.log_labels("m", object(), [1])
        warden.log_labels("m", ["a", None], [1, 0])  # a label without an id
    assert warden.flush(timeout=3)
    assert [r["features"] for r in server.rows()] == [{"x": 1}, {"x": 2}]
    assert [r["prediction"] for r in server.rows()] == [1, 4]
    assert [r["id"] for r in server.rows("labels")] == ["a"]
    stats = warden.stats
    assert stats.logged == 3 and stats.sent == 3
    assert stats.errors == 3 + 2 + 1 + 3 + 1 + 1  # calls refused whole count 1, bad rows count one each
    assert stats.rejected == {
        "unsupported_type": 3,
        "bad_model": 1,
        "bad_value": 1,
        "length_mismatch": 1,
        "bad_score": 1,
        "bad_timestamp": 1,
        "bad_id": 1,
        "missing_id": 1,
    }
    assert stats.rejected_rows == {**stats.rejected, "bad_value": 2, "length_mismatch": 2}
    assert caplog.records and all(r.levelno == logging.WARNING for r in caplog.records)


def test_log_never_raises_or_blocks_when_the_server_is_down(
    tmp_path: Path, make_warden: Callable[..., Warden]
) -> None:
    down = Ingest()
    down.stop()
    warden = make_warden(down.url, max_attempts=2)
    started = time.perf_counter()
    for i in range(200):
        warden.log("m", {"i": i})
    # a blocking log() would wait out a connection attempt per call (seconds); non-blocking is ~µs each
    assert time.perf_counter() - started < 2.0
    assert warden.flush(timeout=4)
    assert warden.stats.spooled == 200 and warden.stats.sent == 0


def test_retry_on_500_then_success(server: Ingest, make_warden: Callable[..., Warden]) -> None:
    server.replies.extend([(500, {}, {"detail": "db hiccup"}), (503, {}, {"detail": "busy"})])
    warden = make_warden(server.url)
    warden.log("m", [{"x": 1}, {"x": 2}])
    assert warden.flush(timeout=4)
    assert len(server.requests) == 3
    assert len({r["body"]["batch_id"] for r in server.requests}) == 1  # one batch_id across retries
    assert len(server.accepted) == 1 and len(server.rows()) == 2
    stats = warden.stats
    assert (stats.retried, stats.batches_sent, stats.sent, stats.spooled, stats.dropped) == (2, 1, 2, 0, 0)


def test_429_retry_after_is_honoured(server: Ingest, make_warden: Callable[..., Warden]) -> None:
    server.replies.append((429, {"Retry-After": "1"}, {"detail": "slow down"}))
    warden = make_warden(server.url)
    warden.log("m", {"x": 1})
    assert warden.flush(timeout=4)
    first, second = server.requests
    assert second["at"] - first["at"] >= 0.95  # full jitter alone waits at most 0.2 s
    assert warden.stats.retried == 1 and warden.stats.sent == 1


def test_413_splits_into_halves_with_derived_batch_ids(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    server.rule = lambda body: (413, {}, {"detail": "too large"}) if len(body["records"]) > 2 else None
    warden = make_warden(server.url, batch_size=100)
    warden.log("m", [{"i": i} for i in range(5)])
    assert warden.flush(timeout=4)
    root = server.requests[0]["body"]["batch_id"]
    assert sorted(server.accepted) == [f"{root}.0", f"{root}.1.0", f"{root}.1.1"]
    assert sorted(r["features"]["i"] for r in server.rows()) == [0, 1, 2, 3, 4]
    stats = warden.stats
    assert (stats.sent, stats.batches_sent, stats.dropped, stats.retried) == (5, 3, 0, 0)


def test_422_drops_the_batch_counts_it_and_warns_once(
    server: Ingest, make_warden: Callable[..., Warden], caplog: pytest.LogCaptureFixture
) -> None:
    server.rule = lambda body: (422, {}, {"detail": "records[0].features: expected an object"})
    warden = make_warden(server.url, batch_size=2)
    with caplog.at_level(logging.WARNING, logger="mlwarden.client"):
        warden.log("m", [{"x": i} for i in range(4)])  # two batches, both rejected
        assert warden.flush(timeout=3)
    assert len(server.requests) == 2  # permanent: never retried
    stats = warden.stats
    assert (stats.dropped, stats.sent, stats.retried, stats.spooled) == (4, 0, 0, 0)
    warnings = [r.getMessage() for r in caplog.records if r.name == "mlwarden.client"]
    assert len(warnings) == 1
    assert "422" in warnings[0] and "records[0].features: expected an object" in warnings[0]
    assert spool_files(warden) == []


def test_server_down_spools_then_replays_with_the_same_batch_id(make_warden: Callable[..., Warden]) -> None:
    first = Ingest()
    port = first.port
    first.stop()
    warden = make_warden(first.url, max_attempts=2, replay_interval=0.1)
    warden.log("m", [{"i": i} for i in range(3)])
    warden.log_labels("m", ["a"], [1])
    assert warden.flush(timeout=4)
    files = spool_files(warden)
    assert len(files) == 2 and warden.stats.spooled == 4
    spooled_ids = {Spool.read(f).batch_id for f in files}

    revived = Ingest(port)
    try:
        assert wait_until(lambda: not spool_files(warden) and warden.spool.bytes == 0)
        assert set(revived.accepted) == spooled_ids  # replayed with the original batch ids
        assert sorted(r["features"]["i"] for r in revived.rows()) == [0, 1, 2]
        assert [r["id"] for r in revived.rows("labels")] == ["a"]
        stats = warden.stats
        assert (stats.replayed, stats.sent, stats.dropped) == (4, 4, 0)
    finally:
        revived.stop()


def test_replay_picks_up_a_spool_left_by_an_earlier_process(
    server: Ingest, tmp_path: Path, make_warden: Callable[..., Warden]
) -> None:
    spool = Spool(tmp_path / "spool", 10**6)
    older = Batch(
        "batches",
        "m",
        [{"id": "old", "timestamp": None, "features": {}, "prediction": None, "score": None}],
        batch_id="older",
    )
    assert spool.write(older)
    assert spool.write(Batch("labels", "m", [{"id": "old", "label": 1, "timestamp": None}], batch_id="newer"))
    (tmp_path / "spool" / "00000000000000000000-1-00000000.jsonl").write_text("{not json\n")
    warden = make_warden(server.url)
    assert wait_until(lambda: len(server.accepted) == 2)
    assert [r["body"]["batch_id"] for r in server.requests] == ["older", "newer"]  # FIFO
    assert wait_until(lambda: not spool_files(warden))
    assert len(list((tmp_path / "spool").glob("*.bad"))) == 1  # unreadable file set aside, not resent
    assert warden.stats.replayed == 2 and warden.stats.errors == 1


def test_buffer_bound_spools_the_oldest_rows_and_drops_when_the_spool_is_full(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url, max_buffer=10, batch_size=1000, flush_interval=60)
    for i in range(25):
        warden.log("m", {"i": i})
        assert warden.stats.buffered <= 10
    stats = warden.stats
    assert stats.spooled + stats.buffered == 25 and stats.dropped == 0
    spooled = sorted(r["features"]["i"] for f in spool_files(warden) for r in Spool.read(f).records)
    assert spooled == list(range(len(spooled)))  # the oldest rows went to disk

    tight = make_warden(
        server.url,
        max_buffer=4,
        batch_size=1000,
        flush_interval=60,
        max_spool_bytes=400,
        spool_dir=warden.spool.directory.parent / "tight",
    )
    for i in range(40):
        tight.log("m", {"i": i})
    stats = tight.stats
    assert stats.buffered <= 4 and stats.dropped > 0
    assert stats.spooled + stats.dropped + stats.buffered == 40
    assert tight.spool.bytes <= 400


def test_flush_and_close_deliver_everything_from_many_threads(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url, batch_size=64, flush_interval=10)

    def produce(worker: int) -> None:
        for i in range(250):
            warden.log("m", {"v": i}, id=f"{worker}-{i}", prediction=i % 2)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    warden.log("other", pd.DataFrame({"v": np.arange(100.0)}))
    warden.close()
    ids = [r["id"] for r in server.rows()]
    assert len(ids) == len(set(ids)) == 1100
    assert all(len(body["records"]) <= 64 for body in server.accepted.values())
    stats = warden.stats
    assert stats == Stats(
        logged=1100,
        sent=1100,
        batches_sent=stats.batches_sent,
        retried=0,
        spooled=0,
        replayed=0,
        dropped=0,
        errors=0,
        buffered=0,
    )
    assert stats.batches_sent == len(server.accepted)
    warden.log("m", {"v": 1})  # after close: refused and counted, not raised
    assert warden.stats.errors == 1


def test_context_manager_flushes_on_exit(server: Ingest, tmp_path: Path) -> None:
    with Warden(server.url, spool_dir=tmp_path, flush_interval=30) as warden:
        warden.log("m", {"x": 1})
        warden.log_labels("m", "id-1", "yes")
    assert len(server.rows()) == 1 and server.rows("labels")[0]["label"] == "yes"
    assert warden.stats.buffered == 0


def test_timeouts_are_transient(server: Ingest, make_warden: Callable[..., Warden]) -> None:
    calls = []

    def slow_first(body: dict[str, Any]) -> Reply | None:
        calls.append(body["batch_id"])
        if len(calls) == 1:
            time.sleep(1.0)
        return None

    server.rule = slow_first
    warden = make_warden(server.url, timeout=0.4, max_attempts=5)
    warden.log("m", {"x": 1})
    assert warden.flush(timeout=4)
    assert warden.stats.retried >= 1 and warden.stats.sent == 1 and warden.stats.spooled == 0
    assert len(set(calls)) == 1  # every attempt carried the same batch_id ...
    assert len(server.accepted) == 1  # ... so the timed-out request that still landed counts once


def test_a_forked_child_gets_its_own_sender(server: Ingest, make_warden: Callable[..., Warden]) -> None:
    warden = make_warden(server.url, flush_interval=30)
    warden.log("m", {"from": "parent"})  # buffered in the parent: only the parent sends it
    pid = os.fork()
    if pid == 0:  # the child: log, flush through its own thread and connection, report by exit code
        code = 1
        try:
            warden.log("m", {"from": "child"})
            code = 0 if warden.flush(timeout=3) and warden.stats.sent == 1 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert warden.flush(timeout=3)
    assert sorted(r["features"]["from"] for r in server.rows()) == ["child", "parent"]
    assert warden.stats.sent == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"flush_interval": 0}, "flush_interval"),
        ({"wire": "xml"}, "wire"),
    ],
)
def test_bad_settings_are_named_at_construction(options: dict[str, Any], field: str) -> None:
    from mlwarden.errors import InputError

    with pytest.raises(InputError, match=field):
        Warden("http://127.0.0.1:9", **options)
    with pytest.raises(InputError, match="url"):
        Warden("127.0.0.1:9")


def test_the_default_arrow_wire_sends_the_records_layout(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    warden = make_warden(server.url, fingerprint="fp1", batch_size=100, flush_interval=30)
    frame = pd.DataFrame({"age": [30, 50], "plan": ["free", None]})
    warden.log("churn", frame, prediction=np.array([0, 1]), score=np.array([0.1, 0.9]), id=["a", "b"])
    warden.log_labels("churn", ["a"], [1])
    assert warden.flush(timeout=3)
    batch, labels = (
        next(r for r in server.requests if r["path"].endswith(kind)) for kind in ("/batches", "/labels")
    )
    assert batch["headers"]["Content-Type"] == ARROW_STREAM
    assert labels["headers"]["Content-Type"] == "application/json"  # labels are small: JSON
    assert batch["body"]["fingerprint"] == "fp1"
    first, second = batch["body"]["records"]
    assert (first["id"], first["features"], first["prediction"], first["score"]) == (
        "a",
        {"age": 30, "plan": "free"},
        0,
        0.1,
    )
    assert second["features"] == {"age": 50, "plan": None}
