"""``mlwarden demo``: the whole check on realistic churn data, in under a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the data and the report.")
    ] = Path("demo-output"),
    rows: Annotated[int, typer.Option(min=1_000, help="Rows per period.")] = 20_000,
) -> None:
    """Generate a churn model's reference and drifted production data, check them, write the HTML report."""
    from rich.console import Console

    from mlwarden.commands.check import print_report
    from mlwarden.comparison import compare
    from mlwarden.demo.data import scored_pair

    console = Console()
    output.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]mlwarden demo[/] — churn model, {rows:,} reference and {rows:,} production rows")
    reference, current = scored_pair(rows)
    ref_path, cur_path = output / "reference.parquet", output / "current.parquet"
    reference.to_parquet(ref_path)
    current.to_parquet(cur_path)
    console.print(f"wrote {ref_path} and {cur_path}\n")
    console.print(
        f"$ mlwarden check {ref_path} {cur_path} --target churned --prediction churn_predicted "
        "--score churn_score\n",
        style="dim",
    )
    report = compare(ref_path, cur_path, target="churned", prediction="churn_predicted", score="churn_score")
    print_report(report, console)
    html = report.to_html(output / "report.html")
    (output / "report.json").write_text(report.to_json() + "\n", encoding="utf-8")
    console.print(f"\nwrote {html} (open it in a browser) and {output / 'report.json'}")
