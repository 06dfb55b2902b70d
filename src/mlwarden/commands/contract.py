"""``mlwarden contract infer`` and ``mlwarden contract validate``."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from mlwarden.findings import Finding

contract_app = typer.Typer(
    help="Input/output contracts: infer one from a reference, validate data against it.",
    no_args_is_help=True,
)


class Format(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(contract_app, name="contract")


@contract_app.command("infer")
def infer(
    data: Annotated[Path, typer.Argument(help="Reference data: CSV, Parquet or a saved profile.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the contract (YAML).")],
    prediction: Annotated[str | None, typer.Option(help="Predicted-label column (an output).")] = None,
    score: Annotated[list[str] | None, typer.Option(help="Score column; repeat for one per class.")] = None,
    target: Annotated[
        str | None, typer.Option(help="Label column: checked when present, may be absent from batches.")
    ] = None,
    range_tolerance: Annotated[
        float, typer.Option(help="Widen each range by this fraction of its width on each side.")
    ] = 0.1,
    max_categories: Annotated[
        int, typer.Option(help="Record the allowed categories when there are at most this many.")
    ] = 100,
) -> None:
    """Infer a contract for the inputs and outputs of DATA and write it as editable YAML."""
    from mlwarden.comparison import load_data
    from mlwarden.profile import profile
    from mlwarden.quality import Contract

    rows, prof, source = load_data(data, role="reference")
    contract = Contract.infer(
        prof if prof is not None else profile(rows, source=source),
        prediction=prediction,
        scores=score or [],
        target=target,
        range_tolerance=range_tolerance,
        max_categories=max_categories,
    )
    contract.to_yaml(output)
    typer.echo(f"wrote {output} ({len(contract.columns)} columns); review and edit it, then validate with it")


@contract_app.command("validate")
def validate(
    contract: Annotated[Path, typer.Argument(help="Contract YAML (from `mlwarden contract infer`).")],
    data: Annotated[Path, typer.Argument(help="Data to check: CSV or Parquet.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Check DATA against CONTRACT: each broken rule with its count, share of rows and example values.

    Exit code 0 when nothing is critical, 1 on critical findings (missing, extra or retyped columns), 2 on
    bad input.
    """
    from mlwarden.findings import Severity, sort_findings
    from mlwarden.quality import Contract, read_batch

    rules = Contract.from_yaml(contract)
    batch = read_batch(data)
    findings = sort_findings(rules.validate(batch))
    if format is Format.json:
        counts = {s.value: sum(f.severity is s for f in findings) for s in Severity}
        result = {
            "contract": str(contract),
            "data": {"source": str(data), "rows": len(batch)},
            "counts": counts,
            "findings": [f.to_dict() for f in findings],
        }
        typer.echo(json.dumps(result, indent=2))
    else:
        print_violations(findings, rows=len(batch), rules=len(rules.columns))
    raise typer.Exit(int(any(f.severity is Severity.CRITICAL for f in findings)))


def print_violations(
    findings: list[Finding], *, rows: int, rules: int, console: Console | None = None
) -> None:
    """A terminal table: one line per broken rule with rows, share and examples."""
    from rich.table import Table

    console = console or Console()
    if not findings:
        console.print(f"{rows:,} rows satisfy all {rules} column rules")
        return
    table = Table(title=f"contract violations ({rows:,} rows)", title_justify="left")
    for name in ("severity", "rule", "column", "rows", "share", "examples"):
        table.add_column(name, justify="right" if name in ("rows", "share") else "left")
    colors = {"critical": "bold red", "warning": "yellow", "info": "cyan"}
    for f in findings:
        count = f.evidence.get("count")
        table.add_row(
            f"[{colors[f.severity.value]}]{f.severity.value}[/]",
            f.check.removeprefix("contract."),
            f.column or "",
            "–" if count is None else f"{count:,}",
            "–" if f.value is None else f"{f.value:.1%}",
            ", ".join(f.evidence.get("examples", [])),
        )
    console.print(table)
