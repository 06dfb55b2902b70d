"""``mlwarden windows MODEL`` and ``mlwarden findings MODEL``: what a running server judged, per window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import typer

from mlwarden.commands.remote import (
    DEFAULT_URL,
    FormatOption,
    ModelArgument,
    Remote,
    TokenOption,
    UrlOption,
    model_path,
    show,
)
from mlwarden.errors import InputError
from mlwarden.schema.alerting import parse_duration


def register(app: typer.Typer) -> None:
    app.command("windows")(windows)
    app.command("findings")(findings)


def windows(
    model: ModelArgument,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="The newest N windows.")] = 20,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """MODEL's windows, newest first: status, rows, drifted columns."""
    with Remote(url, token) as remote:
        rows = remote.get(model_path(model, "windows"), params={"limit": limit})
    if fmt == "table":
        rows = [
            {
                **w,
                "rows": w["summary"].get("rows"),
                "labelled": w["summary"].get("labelled"),
                "drifted": ", ".join(w["summary"].get("drifted_columns") or []),
            }
            for w in rows
        ]
    show(rows, ["start", "end", "status", "rows", "labelled", "drifted", "evaluated_at"], fmt)


def findings(
    model: ModelArgument,
    since: Annotated[
        str | None,
        typer.Option(
            help="Windows from this time on: ISO 8601 (2026-03-01T00:00Z) or a duration ago (24h, 7d)."
        ),
    ] = None,
    severity: Annotated[
        Literal["info", "warning", "critical"] | None, typer.Option(help="Minimum severity.")
    ] = None,
    check: Annotated[
        str | None, typer.Option(help="A check (drift), or a family ending in '.' (performance.).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most N findings.")] = 100,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """MODEL's findings, newest window first."""
    params: dict[str, str | int] = {"limit": limit}
    if since is not None:
        params["since"] = since_time(since).isoformat()
    if severity is not None:
        params["severity"] = severity
    if check is not None:
        params["check"] = check
    with Remote(url, token) as remote:
        rows = remote.get(model_path(model, "findings"), params=params)
    show(rows, ["window_start", "severity", "check", "column", "value", "threshold", "message"], fmt)


def since_time(text: str, now: datetime | None = None) -> datetime:
    """``--since``: an ISO 8601 time (UTC when it has no offset) or a duration before ``now``."""
    try:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return (now or datetime.now(UTC)) - timedelta(seconds=parse_duration(text))
    except ValueError:
        raise InputError(
            f"--since: expected an ISO 8601 time or a duration such as 24h or 7d, got {text!r}"
        ) from None
