"""The sender: flushes due alert groups into the outbox and delivers the outbox, with retries.

It runs as a daemon thread beside the window scheduler (in ``mlwarden serve`` and ``mlwarden worker``);
any number of senders may share one store (see :mod:`mlwarden.alerts.outbox` for how they split the work).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import httpx

from mlwarden.alerts import grouping, outbox
from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.escalation import escalate_due
from mlwarden.alerts.outbox import RetryPolicy
from mlwarden.alerts.receivers import TIMEOUT, deliver
from mlwarden.store import Store

log = logging.getLogger("mlwarden.sender")


def send_due(
    store: Store,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    client: httpx.Client | None = None,
) -> int:
    """One round: deliver every due outbox entry this sender can claim — first those already written (an
    alert change with ``group_wait: 0s`` wrote its notification with it: it need not wait for the rest of
    the round), then those the round's group flushes and escalations write. Returns how many were
    delivered. A failed delivery is recorded on its entry (retried later or dead), never raised."""
    now = now or datetime.now(UTC)
    delivered = _deliver_claimed(store, now, policy, client)
    with store.session() as session:
        written = grouping.flush_due(session, now) + escalate_due(session, now)
    if written:
        delivered += _deliver_claimed(store, now, policy, client)
    return delivered


def _deliver_claimed(store: Store, now: datetime, policy: RetryPolicy, client: httpx.Client | None) -> int:
    """Claim the entries due at ``now`` and deliver them; returns how many were delivered."""
    delivered = 0
    for entry_id in outbox.claim(store, now):
        spec, notification = outbox.load(store, entry_id)
        started = time.perf_counter()
        error: DeliveryError | None = None
        try:
            deliver(spec, notification, client)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # a receiver's bug must not stop the others: recorded, retried
            log.exception("receiver failed", extra={"receiver": spec.name})
            error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
        duration = (time.perf_counter() - started) * 1000
        status = outbox.record_attempt(
            store, entry_id, error=error, duration_ms=duration, now=datetime.now(UTC), policy=policy
        )
        if status == "delivered":
            delivered += 1
        else:
            log.warning(
                "delivery failed",
                extra={"receiver": spec.name, "key": notification.key, "status": status, "error": str(error)},
            )
    return delivered


class Sender:
    """Runs :func:`send_due` every ``interval`` seconds on a daemon thread; :meth:`wake` runs it at once
    (the scheduler wakes it after evaluating windows, so a notification does not wait a whole interval)."""

    def __init__(self, store: Store, interval: float = 1.0, policy: RetryPolicy = RetryPolicy()) -> None:
        self.store, self.interval, self.policy = store, interval, policy
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlwarden-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            while not self._stop.is_set():
                self._wake.clear()  # before the round: a wake-up during it starts the next one at once
                try:
                    send_due(self.store, policy=self.policy, client=client)
                except Exception:
                    log.exception("sender round failed")
                self._wake.wait(self.interval)
