"""``mlwarden reference upload MODEL FILE``: send a model's reference to a running server."""

from __future__ import annotations

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
    model_path,
    show,
)
from mlwarden.errors import InputError

reference_app = typer.Typer(help="A model's reference data on the server.", no_args_is_help=True)

# the body types the server reads a reference from, by file suffix
CONTENT_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".pq": "application/vnd.apache.parquet",
    ".arrow": "application/vnd.apache.arrow.file",
    ".feather": "application/vnd.apache.arrow.file",
    ".csv": "text/csv",
    ".mlwprof": "application/octet-stream",
}


def register(app: typer.Typer) -> None:
    app.add_typer(reference_app, name="reference")


@reference_app.command("upload")
def upload(
    model: ModelArgument,
    file: Annotated[Path, typer.Argument(help="Parquet, Arrow, CSV or a saved profile (.mlwprof).")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Upload FILE as MODEL's reference: the server profiles it, and infers a contract the first time."""
    content_type = CONTENT_TYPES.get(file.suffix.lower())
    if content_type is None:
        raise InputError(f"FILE: {file.name} is not one of {', '.join(CONTENT_TYPES)}")
    if not file.is_file():
        raise InputError(f"FILE: {file} is not a readable file")
    with Remote(url, token) as remote:
        stored = remote.post(
            model_path(model, "reference"), content=file.read_bytes(), headers={"Content-Type": content_type}
        )
    if fmt == "table":
        stored = {**stored, "columns": len(stored["columns"])}
    show(stored, ["rows", "columns", "labelled_rows", "contract"], fmt)
