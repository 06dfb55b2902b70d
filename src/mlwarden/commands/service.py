"""``mlwarden serve``, ``mlwarden worker``, ``mlwarden models …`` and ``mlwarden tokens …``."""

from __future__ import annotations

import getpass
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mlwarden.errors import InputError

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="MLWARDEN_DB", help="SQLite path or postgresql+psycopg:// URL."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

models_app = typer.Typer(help="Register models and manage owners, SLOs and versions.", no_args_is_help=True)
tokens_app = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.add_typer(models_app, name="models")
    app.add_typer(tokens_app, name="tokens")


def _store(db: str | None):
    from mlwarden.store import Store

    return Store(db)


def _operator():
    from mlwarden.registry import Actor

    return Actor.operator(f"cli:{getpass.getuser()}")


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve without tokens (local use only).")
    ] = False,
    evaluate_every: Annotated[
        float,
        typer.Option(
            help="Most seconds between evaluation rounds (windows are evaluated as they close); "
            "0 leaves them to `mlwarden worker`."
        ),
    ] = 10.0,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    send_every: Annotated[
        float, typer.Option(help="Seconds between alert delivery rounds; 0 leaves them to `mlwarden worker`.")
    ] = 1.0,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Server processes sharing the port (each also evaluates windows; each window once)."
        ),
    ] = 1,
) -> None:
    """Run the API, /metrics, the window scheduler and the alert sender."""
    import uvicorn

    from mlwarden.server import create_app
    from mlwarden.server.logs import configure

    configure(log_level)
    store = _store(db)  # migrates the store once, before any worker starts
    app_options: dict[str, Any] = {
        "auth": not no_auth,
        "evaluate_every": evaluate_every or None,
        "send_every": send_every or None,
    }
    options: dict[str, Any] = {"log_config": None, "access_log": False, "log_level": log_level}
    if workers == 1:
        uvicorn.run(create_app(store, **app_options), host=host, port=port, **options)
        return
    from mlwarden.server.workers import app_from_environment, export_settings

    store.dispose()
    export_settings(store.url, log_level=log_level, **app_options)
    target = f"{app_from_environment.__module__}:{app_from_environment.__name__}"
    uvicorn.run(target, factory=True, workers=workers, host=host, port=port, **options)


def worker(
    db: DbOption = None,
    interval: Annotated[
        float,
        typer.Option(help="Most seconds between evaluation rounds (windows are evaluated as they close)."),
    ] = 10.0,
    send_every: Annotated[
        float, typer.Option(help="Seconds between alert delivery rounds; 0 leaves them to others.")
    ] = 1.0,
    once: Annotated[
        bool,
        typer.Option("--once", help="Evaluate due windows and deliver due notifications once, and exit."),
    ] = False,
) -> None:
    """Evaluate closed windows, check ownership hygiene and deliver alert notifications (run beside
    `serve --evaluate-every 0`, as many as you like: they share the work). SIGTERM or Ctrl-C stops it once
    the delivery under way is recorded (a killed sender's notification is sent again after its lease)."""
    from mlwarden.alerts.sender import Sender, send_due
    from mlwarden.server.logs import configure
    from mlwarden.server.memory import Trimmer, trim_seconds
    from mlwarden.server.windows import Scheduler, evaluate_due, run_hygiene

    configure()
    store = _store(db)
    if once:
        count = evaluate_due(store)
        run_hygiene(store)
        delivered = send_due(store)
        typer.echo(f"evaluated {count} window(s), delivered {delivered} notification(s)")
        return
    sender = Sender(store, send_every) if send_every else None
    trimmer = Trimmer(trim) if (trim := trim_seconds()) else None
    for running in (sender, trimmer):
        if running:
            running.start()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as Ctrl-C: stop the sender, then exit
    try:
        Scheduler(store, interval, sender.wake if sender else None).run()
    except KeyboardInterrupt:
        pass
    finally:
        for running in (sender, trimmer):
            if running:
                running.stop()


def _pairs(values: list[str] | None, option: str, *, numbers: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{option}: expected KEY=VALUE, got {item!r}")
        if numbers:
            try:
                out[key] = float(value)
            except ValueError:
                raise InputError(f"{option} {key}: expected a number, got {value!r}") from None
        else:
            out[key] = value.split(",") if key in ("score", "scores") else value
    return out


def _names(values: list[str] | None) -> list[str]:
    """Repeatable options that also take comma-separated lists: ``--ignore a,b --ignore c``."""
    return [name for value in values or [] for name in value.split(",") if name]


def _score_map(values: list[str] | None) -> str | dict[str, str] | None:
    """``--score COLUMN`` (one score column) or ``--score CLASS=COLUMN`` repeated, in the model's class
    order."""
    if not values:
        return None
    pairs = [value.partition("=") for value in values]
    if len(values) == 1 and not pairs[0][1]:
        return values[0]
    bad = [
        value
        for value, (label, sep, column) in zip(values, pairs, strict=True)
        if not (sep and label and column)
    ]
    if bad:
        raise InputError(f"--score: expected CLASS=COLUMN for each class (or one COLUMN), got {bad[0]!r}")
    return {label: column for label, _, column in pairs}


def _config_columns(path: Path | None) -> dict[str, Any]:
    """The ``columns:`` section of a model configuration file (YAML)."""
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"--config {path}: cannot read it as YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or "columns" not in data:
        raise InputError(f"--config {path}: expected a mapping with a 'columns:' section")
    columns = data["columns"]
    if not isinstance(columns, dict):
        raise InputError(f"--config {path}: columns: expected a mapping of roles to column names")
    return dict(columns)


def _registration_columns(
    config: Path | None,
    column: list[str] | None,
    score: list[str] | None,
    **flags: Any,
) -> dict[str, Any]:
    """The ``columns`` of ``models register``: the config file's, then ``--column ROLE=NAME``, then the
    dedicated options (list options extend the file's lists)."""
    columns = _config_columns(config)
    columns.update(_pairs(column, "--column", numbers=False))
    scores = _score_map(score)
    if scores is not None:
        columns.pop("score", None)  # the old name, from the file or --column
        columns["scores"] = scores
    for key, value in flags.items():
        if isinstance(value, list):
            if value:
                given = columns.get(key) or []
                given = [given] if isinstance(given, str) else list(given)
                columns[key] = list(dict.fromkeys([*given, *value]))
        elif value is not None:
            columns[key] = value
    return columns


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@models_app.command("register")
def models_register(
    name: Annotated[str, typer.Argument(help="Model name (unique within its team; no '/').")],
    team: Annotated[str, typer.Option(help="Owning team.")],
    owner_name: Annotated[str | None, typer.Option(help="Owner's name.")] = None,
    owner_email: Annotated[str | None, typer.Option(help="Owner's email.")] = None,
    oncall: Annotated[str | None, typer.Option(help="On-call channel (pager, Slack channel).")] = None,
    runbook: Annotated[str | None, typer.Option(help="Runbook URL.")] = None,
    description: Annotated[str, typer.Option(help="What the model does.")] = "",
    slo: Annotated[list[str] | None, typer.Option(help="SLO bound METRIC=VALUE, e.g. roc_auc=0.8.")] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(help="Column role ROLE=NAME (target, prediction, id, timestamp, scores=a,b,c, task)."),
    ] = None,
    score: Annotated[
        list[str] | None,
        typer.Option(help="Score column: one COLUMN, or CLASS=COLUMN repeated in the model's class order."),
    ] = None,
    positive_label: Annotated[
        str | None, typer.Option(help="The positive class of a binary model (default: the larger label).")
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="Row id column (never drift-tested).")] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Columns to leave out entirely (a,b or repeat).")
    ] = None,
    categorical: Annotated[list[str] | None, typer.Option(help="Columns to treat as categorical.")] = None,
    numeric: Annotated[list[str] | None, typer.Option(help="Columns to treat as numeric.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="Model configuration file (YAML) whose 'columns:' section to use.")
    ] = None,
    window: Annotated[int, typer.Option(help="Window length in seconds.")] = 3600,
    grace: Annotated[int, typer.Option(help="Seconds to wait for late data after a window ends.")] = 60,
    db: DbOption = None,
) -> None:
    """Register a model with its owner, on-call, runbook, SLOs and column mapping."""
    from mlwarden.registry import ModelSpec, Registry

    columns = _registration_columns(
        config,
        column,
        score,
        positive_label=positive_label,
        id=id_column,
        ignore=_names(ignore),
        categorical=_names(categorical),
        numeric=_names(numeric),
    )
    spec = ModelSpec(
        name=name,
        team=team,
        description=description,
        owner_name=owner_name,
        owner_email=owner_email,
        oncall=oncall,
        runbook_url=runbook,
        slos=_pairs(slo, "--slo", numbers=True),
        columns=columns,
        window_seconds=window,
        grace_seconds=grace,
    )
    _print(Registry(_store(db)).create_model(_operator(), spec))


@models_app.command("list")
def models_list(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """List registered models with their owners."""
    from mlwarden.registry import Registry

    models = Registry(_store(db)).list_models(_operator())
    if as_json:
        _print(models)
        return
    table = Table("model", "team", "owner", "on-call", "window")
    for m in models:
        owner = " ".join(
            filter(None, [m["owner"]["name"], f"<{m['owner']['email']}>" if m["owner"]["email"] else None])
        )
        table.add_row(
            m["name"], m["team"], owner or "[red]nobody[/red]", m["oncall"] or "-", f"{m['window_seconds']}s"
        )
    console.print(table)


@models_app.command("show")
def models_show(name: str, db: DbOption = None) -> None:
    """Show a model: owner, SLOs, columns and versions."""
    from mlwarden.registry import Registry

    _print(Registry(_store(db)).get_model(_operator(), name))


@models_app.command("set-owner")
def models_set_owner(
    name: str,
    owner_name: Annotated[str | None, typer.Option("--name", help="Owner's name.")] = None,
    owner_email: Annotated[str | None, typer.Option("--email", help="Owner's email.")] = None,
    oncall: Annotated[str | None, typer.Option(help="On-call channel.")] = None,
    runbook: Annotated[str | None, typer.Option(help="Runbook URL.")] = None,
    db: DbOption = None,
) -> None:
    """Change who owns a model (recorded in the audit log with before/after)."""
    from mlwarden.registry import Registry

    owner = {"owner_name": owner_name, "owner_email": owner_email, "oncall": oncall, "runbook_url": runbook}
    if all(v is None for v in owner.values()):
        raise InputError("set-owner: give at least one of --name, --email, --oncall, --runbook")
    _print(Registry(_store(db)).set_owner(_operator(), name, **owner))


@models_app.command("version")
def models_version(
    name: str,
    version: str,
    stage: Annotated[str, typer.Option(help="shadow, challenger, champion or retired.")] = "shadow",
    artifact: Annotated[str | None, typer.Option(help="Artifact URI.")] = None,
    fingerprint: Annotated[str | None, typer.Option(help="Feature-set fingerprint.")] = None,
    metric: Annotated[list[str] | None, typer.Option(help="Offline metric NAME=VALUE.")] = None,
    training_profile: Annotated[Path | None, typer.Option(help="Saved profile of the training data.")] = None,
    db: DbOption = None,
) -> None:
    """Register a model version."""
    from mlwarden.profile import load_profile
    from mlwarden.registry import Registry

    blob = load_profile(training_profile).to_bytes() if training_profile else None
    _print(
        Registry(_store(db)).register_version(
            _operator(),
            name,
            version,
            stage=stage,
            artifact_uri=artifact,
            feature_fingerprint=fingerprint,
            offline_metrics=_pairs(metric, "--metric", numbers=True),
            training_profile=blob,
        )
    )


@models_app.command("stage")
def models_stage(name: str, version: str, stage: str, db: DbOption = None) -> None:
    """Move a version to a stage (promoting a champion retires the previous one)."""
    from mlwarden.registry import Registry

    _print(Registry(_store(db)).set_stage(_operator(), name, version, stage))


@tokens_app.command("create")
def tokens_create(
    team: Annotated[str, typer.Option(help="Team the token acts for.")],
    scope: Annotated[list[str], typer.Option(help="read, ingest or admin; repeat for several.")],
    name: Annotated[str, typer.Option(help="A label for the token.")] = "default",
    db: DbOption = None,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from mlwarden.registry import create_token

    token = create_token(_store(db), team=team, name=name, scopes=scope, actor=_operator().name)
    typer.echo(token)
    Console(stderr=True).print("store it now: it cannot be shown again", style="yellow")


@tokens_app.command("revoke")
def tokens_revoke(
    prefix: Annotated[str, typer.Argument(help="The token's first 12 characters.")], db: DbOption = None
) -> None:
    """Revoke a token."""
    from mlwarden.registry import revoke_token

    revoke_token(_store(db), prefix, actor=_operator().name)
    typer.echo("revoked")
