"""Poison batches: a batch the server always refuses (a 5xx every time while others go through, or a 4xx)
goes to the dead-letter directory with its error, and every other row keeps flowing; a server that fails
every batch is down, and then nothing is dead-lettered. Against a real HTTP server (ingest_server.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from ingest_server import Ingest, Reply, wait_until

from mlwarden.client import Warden
from mlwarden.client.spool import Spool


def poisoned(status: int) -> Callable[[dict], Reply | None]:
    """A server rule: ``status`` for any batch holding a row whose feature ``poison`` is set."""

    def rule(body: dict) -> Reply | None:
        if any((r.get("features") or {}).get("poison") for r in body.get("records", [])):
            return status, {}, {"detail": "TypeError: cannot hash row 17"}
        return None

    return rule


def dead_letters(warden: Warden) -> list[Path]:
    directory = warden.dead_letters.directory
    return sorted(directory.glob("*.jsonl")) if directory.exists() else []


def log_rows(warden: Warden, rows: int, poison_at: int | None) -> None:
    for i in range(rows):
        features = {"i": i, "poison": True} if i == poison_at else {"i": i}
        warden.log("churn", features, id=f"r{i}", prediction=i % 2)


def test_a_batch_answered_500_every_time_goes_to_the_dead_letters_and_the_rest_flows(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    server.rule = poisoned(500)
    warden = make_warden(server.url, batch_size=10, max_attempts=2, replay_interval=0.05, flush_interval=0.05)
    log_rows(warden, 200, poison_at=37)  # rows 30-39 share a batch with the poison row
    delivered = {f"r{i}" for i in range(200) if not 30 <= i < 40}
    assert wait_until(
        lambda: {r["id"] for r in server.rows()} == delivered and warden.stats.sent == 190, seconds=20
    ), (sorted({r["id"] for r in server.rows()} ^ delivered), warden.stats, dead_letters(warden))
    assert wait_until(lambda: len(dead_letters(warden)) == 1, seconds=20)
    assert wait_until(lambda: not list(warden.spool.directory.glob("*.jsonl")))

    letter = Spool.read(dead_letters(warden)[0])
    assert sorted(r["id"] for r in letter.records) == sorted(f"r{i}" for i in range(30, 40))
    header = dead_letters(warden)[0].read_text().splitlines()[0]
    assert '"status":500' in header and "cannot hash row 17" in header
    stats = warden.stats
    assert (stats.sent, stats.dropped, stats.dead_lettered) == (190, 10, 10)
    assert stats.logged == stats.sent + stats.dropped
    poison_requests = [r for r in server.requests if r["body"]["batch_id"] == letter.batch_id]
    assert len(poison_requests) == 2 + 2  # the fresh attempts, then one per replay until the third answer

    # the dead letter keeps the spool's format: once the cause is fixed, moving it back sends it
    server.rule = None
    shutil.move(dead_letters(warden)[0], warden.spool.directory)
    assert wait_until(lambda: len(server.rows()) == 200, seconds=10)


def test_a_4xx_batch_is_dead_lettered_at_once_with_the_servers_answer(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    server.rule = poisoned(409)
    warden = make_warden(server.url, batch_size=10, max_attempts=3)
    log_rows(warden, 30, poison_at=5)
    assert warden.flush(timeout=5)
    assert {r["id"] for r in server.rows()} == {f"r{i}" for i in range(10, 30)}
    assert len(dead_letters(warden)) == 1 and warden.stats.dead_lettered == 10
    assert (
        sum(r["body"]["batch_id"] == Spool.read(dead_letters(warden)[0]).batch_id for r in server.requests)
        == 1
    )


def test_a_server_failing_every_batch_is_down_not_poisoned(
    server: Ingest, make_warden: Callable[..., Warden]
) -> None:
    failing = {"on": True}
    server.rule = lambda body: (500, {}, {"detail": "database unavailable"}) if failing["on"] else None
    warden = make_warden(server.url, batch_size=10, max_attempts=2, replay_interval=0.05, poison_after=2)
    log_rows(warden, 30, poison_at=None)
    assert warden.flush(timeout=5)
    assert wait_until(lambda: len(server.requests) >= 20, seconds=10)  # every batch answered 500 many times
    assert dead_letters(warden) == [] and warden.stats.dead_lettered == 0
    failing["on"] = False
    assert wait_until(lambda: len(server.rows()) == 30 and warden.stats.sent == 30, seconds=20)
    stats = warden.stats
    assert (stats.sent, stats.dropped, stats.dead_lettered) == (30, 0, 0) and dead_letters(warden) == []
