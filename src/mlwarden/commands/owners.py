"""``mlwarden owners audit``: every model by ownership health, from a running server."""

from __future__ import annotations

import typer

from mlwarden.commands.remote import DEFAULT_URL, FormatOption, Remote, TokenOption, UrlOption, show

owners_app = typer.Typer(help="Who owns each model, and whether they can be reached.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(owners_app, name="owners")


@owners_app.command("audit")
def audit(url: UrlOption = DEFAULT_URL, token: TokenOption = None, fmt: FormatOption = "table") -> None:
    """Every model the token sees, least healthy first: owner, reachable receivers, last batch, last label,
    last evaluation, problems."""
    with Remote(url, token) as remote:
        rows = remote.get("/v1/owners/audit")
    if fmt == "table":
        rows = [
            {
                **r,
                "owner": r["owner"] or r["owner_email"] or "—",
                "reachable": ", ".join(r["reachable_receivers"]) or ("yes" if r["owner_reachable"] else "no"),
                "problems": ", ".join(r["problems"]) or "ok",
            }
            for r in rows
        ]
    show(
        rows,
        ["model", "team", "owner", "reachable", "last_batch", "last_label", "last_evaluation", "problems"],
        fmt,
    )
