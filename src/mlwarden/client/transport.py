"""One batch over HTTP with the retry policy: what is transient is retried, everything else is final.

Transient: connection errors and timeouts, 408, 429 and 5xx. They are retried up to ``attempts`` times with
exponential backoff and full jitter (a uniform wait in ``[0, min(cap, base * 2**attempt)]``, base 0.2 s, cap
10 s); on 429 and 503 a ``Retry-After`` header (seconds or HTTP date, at most 60 s) sets the wait instead.
413 means "too large": the caller splits the batch. Any other status is a permanent rejection.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from dataclasses import dataclass
from enum import Enum

import httpx

from mlwarden.client.batch import Batch, Wire

BACKOFF_BASE = 0.2
BACKOFF_CAP = 10.0
MAX_RETRY_AFTER = 60.0
TRANSIENT_STATUSES = frozenset({408, 429})
DETAIL_CHARS = 500  # how much of an error body is kept for the log


class Outcome(Enum):
    SENT = "sent"  # 2xx: the server has the batch (maybe as a duplicate)
    TOO_LARGE = "too_large"  # 413: split it
    REJECTED = "rejected"  # other 3xx/4xx: sending again cannot help
    FAILED = "failed"  # transient failures used up every attempt (or the client is closing)


@dataclass(slots=True)
class Result:
    outcome: Outcome
    retries: int  # requests made beyond the first
    status: int | None = None
    detail: str = ""


def backoff(attempt: int) -> float:
    """Full-jitter wait before retry number ``attempt + 1``."""
    return random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (429/503 ``Retry-After``), capped at MAX_RETRY_AFTER."""
    value = response.headers.get("retry-after")
    if response.status_code not in (429, 503) or not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Transport:
    """A keep-alive ``httpx.Client`` for one server; used by the Warden's sender thread only."""

    def __init__(
        self, url: str, token: str | None, timeout: float, stop: threading.Event, wire: Wire = "json"
    ) -> None:
        self._wire = wire
        headers = {"User-Agent": "mlwarden-client"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(base_url=url, headers=headers, timeout=timeout)
        self._stop = stop  # set when the Warden closes: waiting ends and the batch is given back

    def post(self, batch: Batch, attempts: int) -> Result:
        """Send ``batch`` until it is acknowledged, rejected, too large, or ``attempts`` are used up."""
        try:
            content, content_type, params = batch.request(self._wire)
        except (TypeError, ValueError) as exc:
            return Result(Outcome.REJECTED, 0, None, f"not JSON-serialisable: {exc}")
        headers = {"Content-Type": content_type}
        detail, status = "", None
        for attempt in range(attempts):
            wait = backoff(attempt)
            try:
                response = self._client.post(batch.path, content=content, headers=headers, params=params)
            except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: the client was closed under us
                detail, status = f"{type(exc).__name__}: {exc}", None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return Result(Outcome.SENT, attempt, status)
                detail = response.text[:DETAIL_CHARS]
                if status == 413:
                    return Result(Outcome.TOO_LARGE, attempt, status, detail)
                if status not in TRANSIENT_STATUSES and status < 500:
                    return Result(Outcome.REJECTED, attempt, status, detail)
                asked = retry_after(response)
                wait = wait if asked is None else asked
            if attempt + 1 == attempts or self._stop.wait(wait):
                return Result(Outcome.FAILED, attempt, status, detail)
        return Result(Outcome.FAILED, 0, status, detail)  # only reached when attempts < 1

    def close(self) -> None:
        self._client.close()
