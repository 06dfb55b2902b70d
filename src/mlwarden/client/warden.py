"""``Warden``: log predictions and labels from a serving process without ever slowing it down or failing it.

``log`` converts the rows to JSON-safe records and appends them to a bounded in-memory buffer; that is all
the caller pays for. A daemon thread drains the buffer into batches (per model and kind, at most
``batch_size`` rows) whenever ``batch_size`` rows are waiting, every ``flush_interval`` seconds, or on
``flush``; it sends them with the retry policy of :mod:`mlwarden.client.transport`, and writes what cannot
be delivered to the :class:`~mlwarden.client.spool.Spool`, which it replays later. A batch the server
refuses for good — a 4xx, or a 5xx every time while other batches go through (a *poison* batch) — goes to
the dead-letter directory with its error, so that it never holds up the rest. See docs/client.md.
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlwarden.client.batch import Batch, Kind, Wire
from mlwarden.client.records import (
    BAD_MODEL,
    CLOSED,
    INTERNAL_ERROR,
    Built,
    Rejected,
    build_labels,
    build_predictions,
)
from mlwarden.client.spool import Spool
from mlwarden.client.transport import Outcome, Result, Transport
from mlwarden.errors import InputError

logger = logging.getLogger("mlwarden.client")

MAX_REPLAY_DELAY = 60.0  # the longest pause between replay attempts while the server is unreachable
REPLAY_PER_PASS = 50  # spooled batches replayed before the thread looks at fresh rows again
MAX_WARNING_KEYS = 1000  # distinct warnings remembered (each is logged at WARNING once, then at DEBUG)
MAX_STRUCK = 10_000  # batches with 5xx answers remembered (the oldest are forgotten past this)
# Answers meaning "the server (or the proxy before it) is not there", not "this batch fails": back off
UNREACHABLE_STATUSES = frozenset({408, 429, 502, 503, 504})

Chunk = tuple[tuple[Kind, str], list[dict[str, Any]]]  # ((kind, model), records) in logging order


@dataclass(frozen=True, slots=True)
class Stats:
    """Counters since the Warden started; all count rows except ``batches_sent``, ``retried`` and
    ``rejected``.

    logged: rows accepted by ``log``/``log_labels``.  sent: rows the server acknowledged (2xx), replayed
    ones included.  batches_sent: acknowledged requests.  retried: requests repeated after a transient
    failure.  spooled: rows written to the spool.  replayed: spooled rows later acknowledged.  dropped: rows
    given up on (permanent 4xx, poison batches, spool full).  dead_lettered: of the dropped rows, those kept
    in the dead-letter directory with the server's error.  errors: rows refused at ``log`` time as bad
    input (a call refused whole counts 1), plus internal errors (unreadable spool files).  buffered: rows
    in memory, not yet sent or spooled.  rejected: ``{reason: times}`` input was refused at ``log`` time —
    a call refused whole counts 1 under its reason, a call that lost rows counts 1 under each reason that
    cost it rows (reasons: :data:`mlwarden.client.records.REASONS`).  rejected_rows: ``{reason: rows}``
    those refusals cost (a call refused whole counts the rows it held, at least 1).
    """

    logged: int = 0
    sent: int = 0
    batches_sent: int = 0
    retried: int = 0
    spooled: int = 0
    replayed: int = 0
    dropped: int = 0
    dead_lettered: int = 0
    errors: int = 0
    buffered: int = 0
    rejected: dict[str, int] = dataclasses.field(default_factory=dict)
    rejected_rows: dict[str, int] = dataclasses.field(default_factory=dict)


def default_spool_dir(url: str) -> Path:
    """``~/.mlwarden/spool/<hash of url>``: processes logging to different servers never mix spools."""
    return Path.home() / ".mlwarden" / "spool" / hashlib.sha256(url.encode()).hexdigest()[:16]


class Warden:
    """Client for an mlwarden server: buffers, batches, retries, spools; never raises from ``log`` (unless
    built with ``strict=True``, which raises :class:`~mlwarden.errors.InputError` for rejected input)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_buffer: int = 100_000,
        spool_dir: str | Path | None = None,
        max_spool_bytes: int = 512 * 2**20,
        timeout: float = 5.0,
        max_attempts: int = 5,
        fingerprint: str | None = None,
        model_version: str | None = None,
        replay_interval: float = 5.0,
        wire: Wire = "arrow",
        strict: bool = False,
        poison_after: int = 3,
    ) -> None:
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
            raise InputError(f"url: expected http(s)://host[:port], got {url!r}")
        for name, value in (
            ("batch_size", batch_size),
            ("max_buffer", max_buffer),
            ("max_attempts", max_attempts),
            ("max_spool_bytes", max_spool_bytes),
            ("poison_after", poison_after),
        ):
            if not isinstance(value, int) or value < 1:
                raise InputError(f"{name}: expected a positive integer, got {value!r}")
        for name, number in (
            ("flush_interval", flush_interval),
            ("timeout", timeout),
            ("replay_interval", replay_interval),
        ):
            if not number > 0:
                raise InputError(f"{name}: expected a positive number of seconds, got {number!r}")
        if wire not in ("json", "arrow"):
            raise InputError(f"wire: expected 'json' or 'arrow', got {wire!r}")
        self.wire: Wire = wire
        self.strict = bool(strict)
        self.url = url.rstrip("/")
        self.batch_size, self.max_buffer, self.max_attempts = batch_size, max_buffer, max_attempts
        self.flush_interval, self.replay_interval = float(flush_interval), float(replay_interval)
        self.timeout = float(timeout)
        self.fingerprint, self.model_version = fingerprint, model_version
        directory = spool_dir if spool_dir is not None else default_spool_dir(self.url)
        self.spool = Spool(directory, max_spool_bytes)
        self.dead_letters = Spool(self.spool.directory / "dead", max_spool_bytes)
        self.poison_after = poison_after
        self._struck: dict[str, tuple[int, int]] = {}  # batch_id -> (5xx answers, batches acked at the first)

        gauges = ("buffered", "rejected", "rejected_rows")  # computed or kept apart, not plain counters
        self._counts = {f.name: 0 for f in dataclasses.fields(Stats) if f.name not in gauges}
        self._rejected: dict[str, int] = {}
        self._rejected_rows: dict[str, int] = {}
        self._count_lock = threading.Lock()
        self._warned: set[str] = set()
        self._cond = threading.Condition()
        self._chunks: deque[Chunk] = deque()
        self._rows = 0  # rows in _chunks
        self._in_flight = 0  # rows drained and being delivered
        self._flush_wanted = False
        self._rounds_started = self._rounds_done = 0
        self._closed = False
        now = time.monotonic()
        self._next_drain = now + self.flush_interval
        self._next_replay = now  # replay what an earlier process left behind right away
        self._replay_delay = self.replay_interval
        self._down_until = 0.0  # while the server looks unreachable, fresh batches go straight to the spool
        self._token = token
        self._start_sender()
        atexit.register(self.close)
        if hasattr(os, "register_at_fork"):
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: (w := ref()) is not None and w._restart_in_child())

    def _start_sender(self) -> None:
        self._closing = threading.Event()
        self._transport = Transport(self.url, self._token, self.timeout, self._closing, self.wire)
        self._thread = threading.Thread(target=self._run, name="mlwarden-client", daemon=True)
        self._thread.start()

    def _restart_in_child(self) -> None:
        """After ``fork``: the child has no sender thread and must not share the parent's sockets or rows
        (the parent sends those). Fresh locks, buffer, counters, connection pool and thread."""
        self._cond = threading.Condition()
        self._count_lock = threading.Lock()
        self.spool.reset_lock()
        self._chunks.clear()
        self._rows = self._in_flight = 0
        self._flush_wanted = False
        self._rounds_started = self._rounds_done = 0
        self._counts = dict.fromkeys(self._counts, 0)
        self._rejected, self._rejected_rows = {}, {}
        self._struck = {}
        if not self._closed:
            self._start_sender()

    # ------------------------------------------------------------------ caller side (never raises)

    def log(
        self,
        model: str,
        features: Any,
        prediction: Any = None,
        score: Any = None,
        id: Any = None,
        timestamp: Any = None,
    ) -> None:
        """Queue predictions of ``model``. Never blocks on the network and never raises (unless
        ``strict=True``): rejected input is counted in ``stats.rejected``/``stats.rejected_rows`` by reason
        and logged at WARNING once per reason and field.

        ``features``: one row (a mapping of column to value), or many: a DataFrame, a dict of columns
        (every value a list or 1-D array/Series), a list of mappings, or a pyarrow Table.
        ``prediction``, ``score``, ``id``, ``timestamp``: for many rows, one value per row as a list, tuple,
        1-D numpy array, pandas Series/Index, pandas extension array (``Int64``, ``string[pyarrow]``,
        ``pd.ArrowDtype(...)``) or pyarrow Array; ``score`` may also be an ``(n, classes)`` array or
        DataFrame. Values are aligned with the rows **by position**: a Series' index labels are ignored (no
        pandas index alignment). For one row (a mapping, or a one-row frame) each is a single value;
        ``score`` may be a list with one probability per class. A single ``timestamp`` applies to every row;
        timestamps are datetimes, ISO strings (sent as given) or epoch seconds, default now (UTC). Ids
        default to fresh uuid4 hex; given ids must not be None/NaN (``missing_id``), integer ids held as
        floats (a NaN elsewhere in the column) are sent as integers.

        A call that cannot be aligned (``length_mismatch``, ``wrong_shape``, ``unsupported_type``) is
        rejected whole; a row with an unusable cell (``bad_value``, ``bad_score``, ``bad_timestamp``,
        ``missing_id``, ``bad_id``) is rejected alone and the other rows are kept. With ``strict=True``
        either raises :class:`~mlwarden.errors.InputError` naming the field, and nothing of the call is
        queued."""
        self._queue("batches", model, lambda: build_predictions(features, prediction, score, id, timestamp))

    def log_labels(self, model: str, ids: Any, labels: Any, timestamp: Any = None) -> None:
        """Queue ground-truth labels for earlier predictions: one id and label, or aligned sequences of any
        type ``log`` takes (by position). A label whose id is None/NaN is rejected (``missing_id``); the
        rest as in ``log``."""
        self._queue("labels", model, lambda: build_labels(ids, labels, timestamp))

    def _queue(self, kind: Kind, model: str, build: Callable[[], Built]) -> None:
        what = "log" if kind == "batches" else "log_labels"
        try:
            if not isinstance(model, str) or not model:
                raise Rejected(BAD_MODEL, "model", f"expected a non-empty model name, got {model!r}")
            built = build()
            if built.dropped and self.strict:
                reason, drop = next(iter(built.dropped.items()))
                rows = len(built.records) + sum(d.rows for d in built.dropped.values())  # all refused
                raise Rejected(reason, drop.field, f"expected {drop.expected}", rows)
            for reason, drop in built.dropped.items():
                message = f"{drop.field}: expected {drop.expected}; row(s) dropped, the rest of the call kept"
                self._reject(what, model, reason, drop.field, drop.rows, message)
            if built.records:
                self._append(kind, model, built.records)
        except Rejected as exc:
            self._reject(what, model, exc.reason, exc.field, exc.rows, f"{exc}; call dropped", whole=True)
            if self.strict:
                raise
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}; call dropped"
            self._reject(what, model, INTERNAL_ERROR, type(exc).__name__, 1, message, whole=True)

    def _append(self, kind: Kind, model: str, records: list[dict[str, Any]]) -> None:
        with self._cond:
            if self._closed:
                raise Rejected(CLOSED, "warden", "the Warden is closed", len(records))
            self._chunks.append(((kind, model), records))
            self._rows += len(records)
            evicted = self._evict_oldest()
            if self._rows >= self.batch_size:
                self._cond.notify_all()
        self._count(logged=len(records))
        if evicted:
            self._spool(self._batches(evicted))

    def _reject(
        self, what: str, model: str, reason: str, field: str, rows: int, message: str, *, whole: bool = False
    ) -> None:
        """Count a refusal by reason and warn once per (call kind, reason, field)."""
        with self._count_lock:
            self._counts["errors"] += 1 if whole else rows
            self._rejected[reason] = self._rejected.get(reason, 0) + 1
            self._rejected_rows[reason] = self._rejected_rows.get(reason, 0) + rows
        text = f"{what}({model!r}) rejected {rows} row(s) [{reason}]: {message}"
        self._warn(f"{what}:{reason}:{field}", text)

    def _evict_oldest(self) -> list[Chunk]:
        """With the lock held: when the buffer passes ``max_buffer``, take its oldest rows (at least a
        quarter of the buffer or a batch, whichever is smaller, so spool writes stay few) for the spool."""
        over = self._rows - self.max_buffer
        if over <= 0:
            return []
        take = max(over, min(self.batch_size, self.max_buffer // 4))
        evicted: list[Chunk] = []
        while take > 0:
            key, records = self._chunks.popleft()
            if len(records) > take:
                self._chunks.appendleft((key, records[take:]))
                records = records[:take]
            evicted.append((key, records))
            take -= len(records)
            self._rows -= len(records)
        return evicted

    # ------------------------------------------------------------------ control

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every row logged before the call is sent, spooled or dropped; False on timeout."""
        with self._cond:
            if not self._thread.is_alive():
                return self._rows == 0
            target = self._rounds_started + 1
            self._flush_wanted = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._rounds_done >= target, timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Flush (waiting at most ``timeout`` s), spool whatever is still unsent, stop the thread. Idempotent;
        also runs at interpreter exit."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        self.flush(timeout)
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(self.timeout + 1.0)
        self._transport.close()

    def __enter__(self) -> Warden:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> Stats:
        """A snapshot of the counters (see :class:`Stats`)."""
        with self._count_lock:
            counts = dict(self._counts)
            rejected, rejected_rows = dict(self._rejected), dict(self._rejected_rows)
        with self._cond:
            buffered = self._rows + self._in_flight
        return Stats(**counts, buffered=buffered, rejected=rejected, rejected_rows=rejected_rows)

    # ------------------------------------------------------------------ sender thread

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._work_due, self._seconds_to_work())
                chunks = list(self._chunks)
                self._chunks.clear()
                self._in_flight, self._rows = self._rows, 0
                self._flush_wanted = False
                self._rounds_started += 1
                round_no = self._rounds_started
                self._next_drain = time.monotonic() + self.flush_interval
                closing = self._closing.is_set()
            try:
                self._deliver_fresh(self._batches(chunks), closing)
            except Exception:
                self._count(errors=1)
                logger.exception("mlwarden client: delivering a batch failed unexpectedly")
            with self._cond:
                self._in_flight = 0
                self._rounds_done = round_no
                self._cond.notify_all()
            if closing:
                return
            if time.monotonic() >= self._next_replay:
                try:
                    self._replay()
                except Exception:
                    self._count(errors=1)
                    logger.exception("mlwarden client: replaying the spool failed unexpectedly")

    def _work_due(self) -> bool:
        now = time.monotonic()
        return (
            self._closing.is_set()
            or self._flush_wanted
            or self._rows >= self.batch_size
            or (self._rows > 0 and now >= self._next_drain)
            or now >= self._next_replay
        )

    def _seconds_to_work(self) -> float:
        due = min(self._next_drain, self._next_replay) if self._rows else self._next_replay
        return max(0.0, due - time.monotonic())

    def _fresh_waiting(self) -> bool:
        with self._cond:
            return self._closing.is_set() or self._flush_wanted or self._rows >= self.batch_size

    def _batches(self, chunks: list[Chunk]) -> list[Batch]:
        """Group chunks by (kind, model), keeping order, and cut each group into ``batch_size`` batches."""
        groups: dict[tuple[Kind, str], list[dict[str, Any]]] = {}
        for key, records in chunks:
            groups.setdefault(key, []).extend(records)
        return [
            Batch(
                kind,
                model,
                records[i : i + self.batch_size],
                fingerprint=self.fingerprint,
                model_version=self.model_version,
            )
            for (kind, model), records in groups.items()
            for i in range(0, len(records), self.batch_size)
        ]

    def _deliver_fresh(self, batches: list[Batch], closing: bool) -> None:
        for batch in batches:
            if closing or time.monotonic() < self._down_until:
                self._spool([batch])
                continue
            pending, _ = self._deliver(batch, self.max_attempts, replayed=False)
            if pending:
                self._server_down()
                self._spool(pending)
            else:
                self._server_up()

    def _deliver(self, batch: Batch, attempts: int, *, replayed: bool) -> tuple[list[Batch], bool]:
        """Send ``batch`` (splitting it on 413). Returns the parts that failed transiently, for the spool, and
        whether the server looked unreachable (no answer, or 408/429/502/503/504) rather than answering this
        batch with an error. Refused batches go to the dead-letter directory."""
        result = self._transport.post(batch, attempts)
        rows = len(batch.records)
        self._count(retried=result.retries)
        if result.outcome is Outcome.SENT:
            self._count(sent=rows, batches_sent=1, replayed=rows if replayed else 0)
            self._struck.pop(batch.batch_id, None)
            return [], False
        if result.outcome is Outcome.FAILED:
            unreachable = result.status is None or result.status in UNREACHABLE_STATUSES
            if unreachable or not self._poisoned(batch):
                return [batch], unreachable
        elif result.outcome is Outcome.TOO_LARGE and rows > 1:
            first, second = batch.halves()
            pending, unreachable = self._deliver(first, attempts, replayed=replayed)
            if pending:
                return [*pending, second], unreachable
            return self._deliver(second, attempts, replayed=replayed)
        self._dead_letter(batch, result)
        return [], False

    def _poisoned(self, batch: Batch) -> bool:
        """Count a 5xx answer to ``batch``; True once it has had ``poison_after`` of them while the server
        acknowledged other batches (a server failing every batch is down, and nothing is poison then)."""
        acked = self._counts["batches_sent"]
        failures, acked_then = self._struck.pop(batch.batch_id, (0, acked))
        if failures + 1 >= self.poison_after and acked > acked_then:
            return True
        if len(self._struck) >= MAX_STRUCK:
            self._struck.pop(next(iter(self._struck)))
        self._struck[batch.batch_id] = (failures + 1, acked_then)
        return False

    def _dead_letter(self, batch: Batch, result: Result) -> None:
        """Give up on ``batch`` the server refused: keep it with its error in the dead-letter directory
        (counted in ``dead_lettered`` and ``dropped``), warn once per model, status and error."""
        rows = len(batch.records)
        error = {"status": result.status, "detail": result.detail, "at": datetime.now(UTC).isoformat()}
        try:
            kept = self.dead_letters.write(batch, error)
        except OSError:
            kept = False
        self._count(dropped=rows, dead_lettered=rows if kept else 0)
        where = f"kept in {self.dead_letters.directory}" if kept else "dropped (dead-letter directory full)"
        self._warn(
            f"rejected:{batch.model}:{result.status}:{result.detail[:200]}",
            f"server refused {rows} {batch.kind} row(s) for model {batch.model!r} "
            f"(HTTP {result.status}); {where}: {result.detail}",
        )

    def _replay(self) -> None:
        """Resend spooled batches oldest first with their original batch_id; delete each file only once the
        server acknowledged it (or its split parts are acknowledged or spooled again, or it went to the
        dead-letter directory). A batch the server answers with an error is kept and passed over, so one
        bad batch never holds up the others; when the server looks unreachable the pass stops."""
        paths = self.spool.rescan()
        self._next_replay = time.monotonic() + self.replay_interval
        passed_over = False
        for path in paths[:REPLAY_PER_PASS]:
            if self._fresh_waiting():
                self._next_replay = time.monotonic()
                return
            try:
                batch = Spool.read(path)
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.spool.quarantine(path)
                self._count(errors=1)
                self._warn(f"spool:{path.name}", f"unreadable spool file {path} set aside as .bad: {exc}")
                continue
            pending, unreachable = self._deliver(batch, 1, replayed=True)
            if pending and pending[0] is batch:
                if unreachable:
                    self._server_down()
                    return
                passed_over = True
                continue
            if pending:
                self._spool(pending)
            self.spool.remove(path)
            self._server_up()
        if len(paths) > REPLAY_PER_PASS:
            self._next_replay = time.monotonic()
        elif passed_over:  # only failing batches are left: try them again after the interval, not at once
            self._next_replay = time.monotonic() + self.replay_interval

    def _server_down(self) -> None:
        """Stop trying fresh batches (spool them) until the next replay probe, with growing pauses."""
        self._down_until = self._next_replay = time.monotonic() + self._replay_delay
        self._replay_delay = min(self._replay_delay * 2, MAX_REPLAY_DELAY)

    def _server_up(self) -> None:
        self._down_until = 0.0
        self._replay_delay = self.replay_interval
        if self.spool.files:
            self._next_replay = min(self._next_replay, time.monotonic())

    def _spool(self, batches: list[Batch]) -> None:
        for batch in batches:
            rows = len(batch.records)
            try:
                stored = self.spool.write(batch)
                reason = f"the spool {self.spool.directory} is full ({self.spool.max_bytes} bytes)"
            except OSError as exc:
                stored, reason = False, f"writing the spool {self.spool.directory} failed: {exc}"
            if stored:
                self._count(spooled=rows)
            else:
                self._count(dropped=rows)
                self._warn(f"spool:{reason}", f"dropped {rows} {batch.kind} rows, {batch.model!r}: {reason}")

    # ------------------------------------------------------------------ helpers

    def _count(self, **deltas: int) -> None:
        with self._count_lock:
            for name, delta in deltas.items():
                self._counts[name] += delta

    def _warn(self, key: str, message: str) -> None:
        """Log ``message`` at WARNING the first time ``key`` is seen, at DEBUG afterwards (no log floods)."""
        with self._count_lock:
            first = key not in self._warned and len(self._warned) < MAX_WARNING_KEYS
            if first:
                self._warned.add(key)
        logger.log(logging.WARNING if first else logging.DEBUG, "mlwarden client: %s", message)
