"""``mlwarden retrain evaluate``: the champion/challenger gate on a labelled file."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mlwarden.commands.remote import (
    DEFAULT_URL,
    FormatOption,
    ModelArgument,
    Remote,
    TokenOption,
    UrlOption,
    console,
    model_path,
)
from mlwarden.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from mlwarden.retrain import GateResult

retrain_app = typer.Typer(
    help="Retraining: triggers, the champion/challenger gate, the ledger, promotion and rollback.",
    no_args_is_help=True,
)


class Format(StrEnum):
    text = "text"
    json = "json"
    html = "html"


def register(app: typer.Typer) -> None:
    app.add_typer(retrain_app, name="retrain")


@retrain_app.command("evaluate")
def evaluate(
    data: Annotated[Path, typer.Argument(help="Labelled rows scored by both models: CSV or Parquet.")],
    target: Annotated[str, typer.Option(help="Label column.")],
    champion_score: Annotated[
        str | None, typer.Option(help="Champion's score column (P(positive)), or its predicted value.")
    ] = None,
    challenger_score: Annotated[
        str | None, typer.Option(help="Challenger's score column (P(positive)), or its predicted value.")
    ] = None,
    champion_prediction: Annotated[
        str | None, typer.Option(help="Champion's predicted-label (or predicted-value) column.")
    ] = None,
    challenger_prediction: Annotated[
        str | None, typer.Option(help="Challenger's predicted-label (or predicted-value) column.")
    ] = None,
    slice: Annotated[
        list[str] | None,
        typer.Option("--slice", help="Column whose values are checked one by one; repeatable."),
    ] = None,
    metric: Annotated[
        str,
        typer.Option(help="roc_auc, accuracy, precision, recall, f1, log_loss, brier, mae, rmse or mape."),
    ] = "roc_auc",
    min_improvement: Annotated[
        float, typer.Option(help="The improvement's lower bound must exceed this (metric scale).")
    ] = 0.0,
    max_slice_regression: Annotated[
        float, typer.Option(help="A slice worse by more than this, with confidence, rejects.")
    ] = 0.02,
    min_slice_rows: Annotated[
        int, typer.Option(help="Slices with fewer rows are reported, not judged.")
    ] = 200,
    confidence: Annotated[float, typer.Option(help="Two-sided level of the intervals.")] = 0.95,
    positive_label: Annotated[
        str | None, typer.Option(help="Positive class of a binary target (default: the larger label).")
    ] = None,
    bootstrap_first: Annotated[
        bool,
        typer.Option("--bootstrap-first", help="No champion yet: accept the challenger without comparison."),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (text: the JSON; html: decision.html).")
    ] = None,
    record: Annotated[
        str | None, typer.Option("--record", help="Record the decision in this model's ledger (on --url).")
    ] = None,
    candidate: Annotated[
        str | None, typer.Option(help="With --record: the registered version the challenger is.")
    ] = None,
    trigger: Annotated[str | None, typer.Option(help="With --record: what started this retrain.")] = None,
    code_commit: Annotated[
        str | None, typer.Option(help="With --record: the training code's commit.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Should the challenger replace the champion? A paired test on the same labelled rows of DATA.

    Score metrics (roc_auc, log_loss, brier) read the --*-score columns; label metrics (accuracy,
    precision, recall, f1) the --*-prediction columns, else the scores decided at 0.5; regression metrics
    (mae, rmse, mape) the --*-prediction columns, else --*-score. With --record MODEL --candidate VERSION
    the decision goes into the model's retrain ledger on the server (promote needs it). Exit codes: 0
    promote, 1 hold or reject, 2 bad input.
    """
    if (record is None) != (candidate is None):
        raise InputError("--record and --candidate: give both (the model, and the version recorded)")
    from mlwarden.commands.check import parse_label, text_console
    from mlwarden.profile.io import read_table
    from mlwarden.retrain import METRICS, gate

    if metric not in METRICS:
        raise InputError(f"--metric: unknown {metric!r}; expected one of {', '.join(METRICS)}")
    spec = METRICS[metric]
    champion = _model_column(spec.output, "champion", champion_score, champion_prediction)
    challenger = _model_column(spec.output, "challenger", challenger_score, challenger_prediction)
    if challenger is None:
        flag = (
            "--challenger-score"
            if spec.output == "score"
            else "--challenger-prediction or --challenger-score"
        )
        raise InputError(f"{flag}: the challenger's column is required for {metric}")
    if champion is None and not bootstrap_first:
        flag = "--champion-score" if spec.output == "score" else "--champion-prediction or --champion-score"
        raise InputError(f"{flag}: give the champion's column, or --bootstrap-first to accept a first model")
    result = gate(
        read_table(data),
        target=target,
        champion=champion,
        challenger=challenger,
        metric=metric,
        slices=tuple(slice or ()),
        min_improvement=min_improvement,
        max_slice_regression=max_slice_regression,
        min_slice_rows=min_slice_rows,
        confidence=confidence,
        positive_label=None if positive_label is None else parse_label(positive_label),
        seed=seed,
        bootstrap_first=bootstrap_first,
    )
    if format is Format.json:
        if output:
            output.write_text(result.to_json() + "\n", encoding="utf-8")
        else:
            typer.echo(result.to_json())
    elif format is Format.html:
        path = output or Path("decision.html")
        result.to_html(path, source=data.name)
        typer.echo(f"wrote {path}")
    else:
        print_decision(result, text_console())
        if output:
            output.write_text(result.to_json() + "\n", encoding="utf-8")
    if record is not None:
        body = {
            "candidate": candidate,
            "gate": result.to_dict(),
            "gate_config": {k: v for k, v in result.settings.items() if k != "judged_slices"},
            "trigger": trigger,
            "code_commit": code_commit,
            "evidence": {"data": data.name},
        }
        with Remote(url, token) as remote:
            stored = remote.post(model_path(record, "retrains"), json=body)
        typer.echo(f"recorded in the ledger of {record} as retrain {stored['id']}", err=True)
    raise typer.Exit(0 if result.promoted else 1)


def _model_column(output: str, role: str, score: str | None, prediction: str | None) -> str | None:
    """The column a metric reads: scores for a score metric, else the prediction (or the score)."""
    if output == "score":
        if prediction is not None and score is None:
            raise InputError(
                f"--{role}-score: a score metric needs the {role}'s score column, not its prediction"
            )
        return score
    return prediction if prediction is not None else score


def print_decision(result: GateResult, console: Console) -> None:
    """The decision, a table (overall, then each slice value) and the reasons."""
    colors = {"promote": "bold green", "hold": "bold yellow", "reject": "bold red"}
    console.print(
        f"decision: [{colors[result.decision]}]{result.decision}[/] · {result.metric} · {result.test} test · "
        f"{result.n:,} rows"
    )
    table = Table(title_justify="left")
    for name in ("rows", "champion", "challenger", "difference", "interval", "p-value / verdict"):
        table.add_column(name, justify="left" if name == "rows" else "right")
    table.add_row(
        "all",
        _num(result.champion),
        _num(result.challenger),
        _num(result.delta),
        _interval(result.ci),
        _num(result.p_value, 2),
    )
    for s in result.slices:
        verdict = {None: "[dim]not judged[/]", True: "[bold red]regressed[/]", False: "ok"}[s.regressed]
        value = "(missing)" if s.value is None else str(s.value)
        table.add_row(
            f"{escape(s.column)}={escape(value)} ({s.n:,})",
            _num(s.champion),
            _num(s.challenger),
            _num(s.delta),
            _interval(s.ci),
            verdict,
        )
    console.print(table)
    for reason in result.reasons:
        console.print(f"- {escape(reason)}")


def _num(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def _interval(ci: tuple[float, float] | None) -> str:
    return "–" if ci is None else f"{ci[0]:+.3g} to {ci[1]:+.3g}"


@retrain_app.command("plan")
def plan(
    model: ModelArgument,
    config: Annotated[
        Path | None, typer.Option("--config", help="A model configuration file whose retrain: to plan with.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Each trigger and guard: fires or not, and why, with the numbers (the model's stored retrain:
    section, or the one of --config)."""
    body = None
    if config is not None:
        from mlwarden.schema.config import ModelConfig

        section = ModelConfig.from_yaml(config).retrain
        if section is None:
            raise InputError(f"{config}: no retrain: section")
        body = {"retrain": section.model_dump(mode="json")}
    with Remote(url, token) as remote:
        path = model_path(model, "retrain", "plan")
        result = remote.get(path) if body is None else remote.post(path, json=body)
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2))
        return
    state = "[bold red]due[/]" if result["due"] else "[green]not due[/]"
    console.print(f"retrain of {escape(model)}: {state} (config: {result['config']})")
    table = Table("trigger", "fires", "why")
    for row in result["triggers"] + result["guards"]:
        fires = "[bold]yes[/]" if row["fires"] else ("no" if row["configured"] else "[dim]–[/]")
        table.add_row(row["trigger"], fires, escape(row["reason"]))
    console.print(table)


@retrain_app.command("history")
def history(
    model: ModelArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """The retrain ledger, newest first, and how many retrains helped, hurt or made no difference."""
    with Remote(url, token) as remote:
        result = remote.get(model_path(model, "retrains"))
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2))
        return
    s = result["summary"]
    console.print(
        f"{escape(model)}: {s['retrains']} retrains — helped {s['helped']}, hurt {s['hurt']}, "
        f"no difference {s['no_difference']}, outcome pending {s['pending']}"
    )
    table = Table("id", "created", "trigger", "parent → candidate", "gate", "promoted", "outcome")
    for r in result["retrains"]:
        gate = r["gate"]
        delta = "" if gate.get("delta") is None else f" Δ{gate['delta']:+.3g}"
        promoted = "rolled back" if r["rolled_back_at"] else (r["promoted_at"] or "")[:16]
        outcome = r["outcome_status"] or ""
        if r["outcome"] and r["outcome"].get("ci"):
            low, high = r["outcome"]["ci"]
            outcome += f" Δ{r['outcome']['delta']:+.3g} [{low:+.3g}, {high:+.3g}]"
        table.add_row(
            str(r["id"]),
            r["created_at"][:16],
            escape(r["trigger"] or ""),
            escape(f"{r['parent_version'] or '–'} → {r['candidate_version']}"),
            f"{r['decision']}{delta}",
            promoted,
            outcome,
        )
    console.print(table)


@retrain_app.command("record")
def record_shadow(
    model: ModelArgument,
    version: Annotated[str, typer.Argument(help="The version scoring in shadow.")],
    trigger: Annotated[str | None, typer.Option(help="What started this retrain.")] = None,
    code_commit: Annotated[str | None, typer.Option(help="The training code's commit.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Run the gate on VERSION's shadow traffic (every labelled request it and the champion both scored)
    and record the decision in the ledger. Exit codes: 0 promote, 1 hold or reject, 2 bad input."""
    body = {"candidate": version, "trigger": trigger, "code_commit": code_commit}
    with Remote(url, token) as remote:
        stored = remote.post(model_path(model, "retrains"), json=body)
    _show_record(stored, fmt)
    raise typer.Exit(0 if stored["decision"] == "promote" else 1)


@retrain_app.command("promote")
def promote(
    model: ModelArgument,
    version: Annotated[str, typer.Argument(help="The version to make champion (its gate said promote).")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Make VERSION the champion; the champion it replaces keeps scoring in shadow for the outcome."""
    with Remote(url, token) as remote:
        stored = remote.post(model_path(model, "versions", version, "promote"))
    _show_record(stored, fmt, f"{version} is the champion of {model} (was {stored['parent_version']})")


@retrain_app.command("rollback")
def rollback(
    model: ModelArgument,
    version: Annotated[str, typer.Argument(help="The champion whose promotion to undo.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Undo the promotion of VERSION: the champion it replaced is champion again, in one step."""
    with Remote(url, token) as remote:
        stored = remote.post(model_path(model, "versions", version, "rollback"))
    _show_record(
        stored, fmt, f"{stored['parent_version']} is the champion of {model} again; {version} retired"
    )


def _show_record(stored: dict, fmt: str, headline: str | None = None) -> None:
    if fmt == "json":
        typer.echo(json.dumps(stored, indent=2))
        return
    gate = stored["gate"]
    console.print(escape(headline or f"retrain {stored['id']}: {stored['candidate_version']}"))
    console.print(f"gate: {gate['decision']} · {gate.get('metric')} · {gate.get('n')} rows")
    for reason in gate.get("reasons") or []:
        console.print(f"- {escape(reason)}")
