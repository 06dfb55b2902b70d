"""``mlwarden teams admins TEAM``: who hears about a team's models when their owners cannot be reached."""

from __future__ import annotations

from typing import Annotated

import typer

from mlwarden.commands.service import DbOption, _operator, _store

teams_app = typer.Typer(help="Teams: their admins.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(teams_app, name="teams")


@teams_app.command("admins")
def admins(
    team: Annotated[str, typer.Argument(help="The team.")],
    add: Annotated[list[str] | None, typer.Option("--add", help="An admin's email; repeatable.")] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="An email to remove; repeatable.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Show TEAM's admins, after adding and removing the ones given. They are told of ownership problems
    (no owner, failing receivers, no traffic, ...) of the team's models whose owner cannot be reached."""
    from mlwarden.registry.admins import set_admins

    emails = set_admins(_store(db), team, add=add or [], remove=remove or [], actor=_operator().name)
    typer.echo("\n".join(emails) if emails else f"team {team} has no admins")
