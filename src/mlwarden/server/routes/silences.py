"""``POST/GET /v1/silences`` and ``DELETE /v1/silences/{silence_id}``: mute alerts' notifications."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from mlwarden.alerts import silences
from mlwarden.server.deps import Caller, RowId, Svc

router = APIRouter(tags=["silences"])


class MatcherIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    value: str = Field(max_length=1000)
    regex: bool = False


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[MatcherIn] = Field(min_length=1, max_length=silences.MAX_MATCHERS)
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime | None = Field(default=None, description="give ends_at or duration")
    duration: str | None = Field(default=None, description="e.g. 2h; give ends_at or duration")
    comment: str = Field(default="", max_length=2000)


@router.post("/v1/silences", status_code=201)
def create_silence(body: SilenceIn, caller: Caller, svc: Svc) -> dict[str, Any]:
    """A silence (admin scope; audited) over the caller's team's models."""
    now = datetime.now(UTC)
    with svc.store.session() as session:
        silence = silences.create(
            session,
            caller,
            [m.model_dump() for m in body.matchers],
            now=now,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            duration=body.duration,
            comment=body.comment,
        )
        return silences.silence_dict(silence, now)


@router.get("/v1/silences")
def list_silences(caller: Caller, svc: Svc) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    with svc.store.session() as session:
        return [silences.silence_dict(s, now) for s in silences.listed(session, caller)]


@router.delete("/v1/silences/{silence_id}")
def expire_silence(silence_id: RowId, caller: Caller, svc: Svc) -> dict[str, Any]:
    """End a silence now (admin scope; audited)."""
    now = datetime.now(UTC)
    with svc.store.session() as session:
        return silences.silence_dict(silences.expire(session, caller, silence_id, now), now)
