"""``mlwarden retrain evaluate``: the champion/challenger gate on a labelled file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from mlwarden.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from mlwarden.retrain import GateResult

retrain_app = typer.Typer(help="Retraining: the champion/challenger gate.", no_args_is_help=True)


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
) -> None:
    """Should the challenger replace the champion? A paired test on the same labelled rows of DATA.

    Score metrics (roc_auc, log_loss, brier) read the --*-score columns; label metrics (accuracy,
    precision, recall, f1) the --*-prediction columns, else the scores decided at 0.5; regression metrics
    (mae, rmse, mape) the --*-prediction columns, else --*-score. Exit codes: 0 promote, 1 hold or reject,
    2 bad input.
    """
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
