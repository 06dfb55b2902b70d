"""``mlwarden apply -f FILE`` and ``mlwarden config check|history|diff``: model configuration as code."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from mlwarden.commands.remote import (
    DEFAULT_URL,
    FormatOption,
    ModelArgument,
    Remote,
    TokenOption,
    UrlOption,
    console,
    model_path,
    show,
)
from mlwarden.errors import InputError, NotFoundError

config_app = typer.Typer(
    help="Validate model configuration files and show their history.", no_args_is_help=True
)

FileArgument = Annotated[Path, typer.Argument(help="A model configuration YAML file.", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command()(apply)
    app.add_typer(config_app, name="config")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None


def apply(
    file: Annotated[Path, typer.Option("-f", "--file", help="The model configuration YAML to apply.")],
    model: Annotated[
        str | None, typer.Option("--model", help="The model to configure (default: the file's model:).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Apply a model configuration file to the server: validated as a whole first (nothing changes on an
    error), stored as the model's next version, audited; the model is registered when missing."""
    from mlwarden.registry.configs import check_config

    text = _read(file)
    checked = check_config(text, source=str(file))
    name = model or checked.config.model
    if not name:
        raise InputError(f"{file}: model: required (or give --model)")
    put = {"content": text.encode(), "headers": {"Content-Type": "application/yaml"}}
    with Remote(url, token) as remote:
        try:
            result = remote.put(model_path(name, "config"), **put)
        except NotFoundError:  # a new model: registered (in the token's team, or the file's owner.team)
            team = (checked.config.owner or {}).get("team")
            remote.post("/v1/models", json={"name": name, **({"team": team} if team else {})})
            result = remote.put(model_path(name, "config"), **put)
    if result["changed"]:
        console.print(f"{result['model']}: configuration version {result['version']} applied")
    else:
        console.print(f"{result['model']}: unchanged (version {result['version']} is this file)")


@config_app.command("check")
def config_check(file: FileArgument) -> None:
    """Validate a configuration file offline (like amtool check-config): exit 0 when valid, 2 with the
    failing path otherwise. Lists the ${ENV} secrets the server will need."""
    from mlwarden.registry.configs import check_config
    from mlwarden.schema import secrets

    text = _read(file)
    config = check_config(text, source=str(file)).config
    console.print(
        f"{file}: valid configuration of model {config.model or '(unnamed: give --model to apply)'}"
    )
    if config.alerts is not None:
        alerts = config.alerts
        kinds = ", ".join(f"{name} ({spec.kind})" for name, spec in alerts.receivers.items()) or "none"
        console.print(f"  receivers: {kinds}")
        console.print(
            f"  routes: {_count_routes(alerts.route) - 1} below the root; rules: {len(alerts.rules)}; "
            f"inhibit rules: {len(alerts.inhibit)}; escalation steps: {len(alerts.escalate)}"
        )
    needed = list(dict.fromkeys(secrets.names(text)))
    if needed:
        console.print(f"  secrets from the server's environment: {', '.join(needed)}")


def _count_routes(route) -> int:
    return 1 + sum(_count_routes(child) for child in route.routes)


@config_app.command("history")
def config_history(
    model: ModelArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Every applied version of a model's configuration: who applied it and when."""
    with Remote(url, token) as remote:
        rows = remote.get(model_path(model, "config", "history"))
    show(rows, ["version", "actor", "applied_at"], fmt)


@config_app.command("diff")
def config_diff(
    model: ModelArgument,
    old: Annotated[
        int | None, typer.Option("--from", help="The older version (default: the one before --to).")
    ] = None,
    new: Annotated[int | None, typer.Option("--to", help="The newer version (default: the latest).")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """A unified diff between two versions of a model's configuration."""
    with Remote(url, token) as remote:
        if new is None:
            new = remote.get(model_path(model, "config"))["version"]
        if old is None:
            old = new - 1
        if old < 1:
            raise InputError(f"--from: model {model} has no version before {new}")
        # the newer first: a --to past the latest is named as given, not as the --from derived from it
        new_text, old_text = (
            remote.get(model_path(model, "config"), params={"version": v})["text"] for v in (new, old)
        )
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"{model}@{old}",
        tofile=f"{model}@{new}",
    )
    typer.echo("".join(lines), nl=False)
