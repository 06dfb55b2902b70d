"""``mlwarden owners audit``: every model by ownership health, from a running server."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from mlwarden.commands.remote import DEFAULT_URL, FormatOption, Remote, TokenOption, UrlOption, show

owners_app = typer.Typer(help="Who owns each model, and whether they can be reached.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(owners_app, name="owners")


@owners_app.command("audit")
def audit(url: UrlOption = DEFAULT_URL, token: TokenOption = None, fmt: FormatOption = "table") -> None:
    """Every model the token sees, least healthy first: owner, reachable receivers, last batch, last label,
    last evaluation (UTC), problems. --format json adds the team, the owner's email and each problem's
    message."""
    with Remote(url, token) as remote:
        rows = remote.get("/v1/owners/audit")
    if fmt == "table":
        rows = [
            {
                "model": r["model"],
                "owner": r["owner"] or r["owner_email"] or "—",
                "reachable": ", ".join(r["reachable_receivers"]) or ("yes" if r["owner_reachable"] else "no"),
                "batch": _short(r["last_batch"]),
                "labels": _short(r["last_label"]),
                "evaluated": _short(r["last_evaluation"]),
                "problems": "\n".join(r["problems"]) or "ok",
            }
            for r in rows
        ]
    show(rows, ["model", "owner", "reachable", "batch", "labels", "evaluated", "problems"], fmt)


def _short(moment: str | None) -> str:
    """``2026-11-30T11:35:02.5+00:00`` → ``11-30 11:35`` (UTC): the table fits a terminal."""
    if moment is None:
        return "never"
    return datetime.fromisoformat(moment).astimezone(UTC).strftime("%m-%d %H:%M")
