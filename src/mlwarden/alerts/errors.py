"""What a receiver raises when a notification could not be delivered."""

from __future__ import annotations

from mlwarden.errors import MlwardenError


class DeliveryError(MlwardenError):
    """A delivery failed. ``retryable`` False (a 4xx answer, an unset secret, a bad address) dead-letters
    the notification at once; True (a timeout, a refused connection, a 5xx or 429) retries it with backoff.
    The message is recorded on the attempt: it names what failed and never holds a secret's value."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
