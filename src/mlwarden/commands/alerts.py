"""``mlwarden alerts list|ack|silence|unsilence|silences``: alerts and silences on a running server."""

from __future__ import annotations

from typing import Annotated

import typer

from mlwarden.commands.remote import DEFAULT_URL, FormatOption, Remote, TokenOption, UrlOption, console, show

alerts_app = typer.Typer(help="List and acknowledge alerts; silence them.", no_args_is_help=True)

ALERT_COLUMNS = [
    "id",
    "model",
    "check",
    "column",
    "severity",
    "status",
    "silenced",
    "acknowledged_by",
    "last_seen",
]
SILENCE_COLUMNS = ["id", "state", "matchers", "ends_at", "author", "comment"]


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


@alerts_app.command("list")
def alerts_list(
    status: Annotated[
        str, typer.Option(help="open, pending, firing, acknowledged, silenced, resolved or all.")
    ] = "open",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """The team's alerts (open ones by default), newest first."""
    with Remote(url, token) as remote:
        show(remote.get("/v1/alerts", params={"status": status}), ALERT_COLUMNS, fmt)


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (see `alerts list`).")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Acknowledge an alert: someone is on it (escalation stops)."""
    with Remote(url, token) as remote:
        alert = remote.post(f"/v1/alerts/{alert_id}/ack")
    console.print(
        f"alert {alert['id']} ({alert['model']} {alert['check']}) acknowledged by {alert['acknowledged_by']}"
    )


@alerts_app.command("silence")
def alerts_silence(
    matchers: Annotated[
        list[str], typer.Argument(help="NAME=VALUE or NAME=~REGEX, e.g. model=churn check=drift.")
    ],
    duration: Annotated[str, typer.Option(help="How long, e.g. 2h.")] = "2h",
    comment: Annotated[str, typer.Option(help="Why (shown to everyone).")] = "",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Silence the notifications of the alerts every matcher selects, for ``--duration``."""
    from mlwarden.alerts.silences import parse_matcher

    parsed = [parse_matcher(m) for m in matchers]
    body = {
        "matchers": [{"name": m.name, "value": m.value, "regex": m.regex} for m in parsed],
        "duration": duration,
        "comment": comment,
    }
    with Remote(url, token) as remote:
        silence = remote.post("/v1/silences", json=body)
    console.print(f"silence {silence['id']} until {silence['ends_at']}")


@alerts_app.command("unsilence")
def alerts_unsilence(
    silence_id: Annotated[int, typer.Argument(help="The silence's id (see `alerts silences`).")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Expire a silence now."""
    with Remote(url, token) as remote:
        remote.delete(f"/v1/silences/{silence_id}")
    console.print(f"silence {silence_id} expired")


@alerts_app.command("silences")
def alerts_silences(
    url: UrlOption = DEFAULT_URL, token: TokenOption = None, fmt: FormatOption = "table"
) -> None:
    """The team's silences, newest first."""
    with Remote(url, token) as remote:
        rows = remote.get("/v1/silences")
    for row in rows if fmt == "table" else []:
        row["matchers"] = " ".join(
            f"{m['name']}{'=~' if m['regex'] else '='}{m['value']}" for m in row["matchers"]
        )
    show(rows, SILENCE_COLUMNS, fmt)
