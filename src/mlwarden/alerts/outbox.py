"""The outbox: notifications written in the transaction that decided them, claimed and delivered by a
sender, every attempt recorded.

Claiming is a lease (``claimed_until``): on PostgreSQL the due rows are selected ``FOR UPDATE SKIP LOCKED``
so replicas take different rows; on both backends the claim is a conditional UPDATE that only one sender
can win. A sender killed mid-delivery leaves its lease to expire, and the row is delivered again with the
same idempotency key (at-least-once to the receiver; receivers drop a key they have seen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from mlwarden.alerts.errors import DeliveryError
from mlwarden.alerts.notification import Notification
from mlwarden.errors import InputError
from mlwarden.schema.alerting import ReceiverSpec
from mlwarden.store import Store
from mlwarden.store.schema import DeliveryAttempt, OutboxEntry
from mlwarden.store.upsert import insert_ignore

LEASE = timedelta(seconds=60)  # longer than a receiver's timeout: a live sender finishes within it


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: attempt n waits ``min(cap, base * 2**(n-1))`` seconds; dead after
    ``max_attempts`` failures (or at once when the error is not retryable)."""

    max_attempts: int = 8
    base: float = 2.0
    cap: float = 600.0

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.base * 2 ** (attempts - 1))


def enqueue(
    session: Session, model_id: int, spec: ReceiverSpec, notification: Notification, now: datetime
) -> OutboxEntry:
    """Add a notification for ``spec`` to ``session``'s transaction, due at ``now`` (the moment that decided
    it: a sender round that wrote it claims it in the same round)."""
    entry = OutboxEntry(
        key=notification.key,
        model_id=model_id,
        receiver=spec.name,
        receiver_spec=spec.model_dump(mode="json", exclude_none=True),
        payload=notification.to_dict(),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(entry)
    return entry


def claim(store: Store, now: datetime, *, limit: int = 20, lease: timedelta = LEASE) -> list[int]:
    """Lease up to ``limit`` due entries to this sender; returns their ids (oldest first)."""
    free = or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until < now)
    query = (
        select(OutboxEntry.id)
        .where(OutboxEntry.status == "pending", OutboxEntry.next_attempt_at <= now, free)
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    if store.backend == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    with store.session() as session:
        for entry_id in session.scalars(query).all():
            won = session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == entry_id, OutboxEntry.status == "pending", free)
                .values(claimed_until=now + lease)
            )
            if won.rowcount == 1:
                claimed.append(entry_id)
    return claimed


def load(store: Store, entry_id: int) -> tuple[ReceiverSpec, Notification]:
    with store.session() as session:
        entry = session.get(OutboxEntry, entry_id)
        return ReceiverSpec.model_validate(entry.receiver_spec), Notification.from_dict(entry.payload)


def record_attempt(
    store: Store,
    entry_id: int,
    *,
    error: DeliveryError | None,
    duration_ms: float,
    now: datetime,
    policy: RetryPolicy,
) -> str:
    """Record one attempt and move the entry on: ``delivered``, ``pending`` (retry after the backoff) or
    ``dead``. Returns the new status."""
    with store.session() as session:
        entry = session.get(OutboxEntry, entry_id, with_for_update=store.backend == "postgresql")
        entry.attempts += 1
        session.add(
            DeliveryAttempt(
                outbox_id=entry.id,
                attempt=entry.attempts,
                at=now,
                status="ok" if error is None else "failed",
                error=None if error is None else str(error),
                duration_ms=duration_ms,
            )
        )
        entry.claimed_until = None
        if error is None:
            entry.status, entry.delivered_at, entry.last_error = "delivered", now, None
        else:
            entry.last_error = str(error)
            if not error.retryable or entry.attempts >= policy.max_attempts:
                entry.status = "dead"
            else:
                entry.next_attempt_at = now + timedelta(seconds=policy.delay(entry.attempts))
        return entry.status


def enqueue_once(
    session: Session, model_id: int, spec: ReceiverSpec, notification: Notification, now: datetime
) -> None:
    """:func:`enqueue`, unless an entry with the notification's key exists (``INSERT … ON CONFLICT DO
    NOTHING``): for notifications whose key names a decision (an escalation step), so that replicas taking
    the same decision at once write it once."""
    insert_ignore(
        session,
        OutboxEntry,
        [
            {
                "key": notification.key,
                "model_id": model_id,
                "receiver": spec.name,
                "receiver_spec": spec.model_dump(mode="json", exclude_none=True),
                "payload": notification.to_dict(),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        ],
    )


NOTIFICATION_STATUSES = ("pending", "delivered", "dead")


def listed(session: Session, model_id: int, status: str | None, limit: int) -> list[dict[str, Any]]:
    """A model's notifications, newest first, each with its attempts (what an operator reads to see why a
    receiver keeps failing). Payloads are left out: they are what the receiver got."""
    if status is not None and status not in NOTIFICATION_STATUSES:
        raise InputError(f"status: expected one of {', '.join(NOTIFICATION_STATUSES)}, got {status!r}")
    query = select(OutboxEntry).where(OutboxEntry.model_id == model_id)
    if status is not None:
        query = query.where(OutboxEntry.status == status)
    entries = session.scalars(query.order_by(OutboxEntry.id.desc()).limit(limit)).all()
    tries: dict[int, list[dict[str, Any]]] = {e.id: [] for e in entries}
    for attempt in session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(list(tries))).order_by(DeliveryAttempt.id)
    ):
        tries[attempt.outbox_id].append(
            {
                "attempt": attempt.attempt,
                "at": attempt.at.isoformat(),
                "status": attempt.status,
                "error": attempt.error,
                "duration_ms": round(attempt.duration_ms, 1),
            }
        )
    return [
        {
            "key": e.key,
            "receiver": e.receiver,
            "kind": next(iter(set(e.receiver_spec) - {"name"}), None),
            "status": e.status,
            "notification_status": e.payload.get("status"),
            "alerts": len(e.payload.get("alerts", [])),
            "created_at": e.created_at.isoformat(),
            "delivered_at": e.delivered_at.isoformat() if e.delivered_at else None,
            "next_attempt_at": e.next_attempt_at.isoformat() if e.status == "pending" else None,
            "attempts": tries[e.id],
        }
        for e in entries
    ]
