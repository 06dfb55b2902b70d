"""The ``mlwarden`` command line. Each command lives in ``mlwarden.commands.<name>`` with a ``register(app)``.

Exit codes: 0 success (nothing critical), 1 critical findings, 2 bad input (usage errors included),
3 an unexpected internal error (one line on stderr; the traceback with ``--debug`` or ``MLWARDEN_DEBUG=1``).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mlwarden.errors import MlwardenError

DEBUG_ENV = "MLWARDEN_DEBUG"  # "1": an internal error prints its traceback (same as --debug)
INTERNAL_ERROR = 3

app = typer.Typer(
    name="mlwarden",
    help="Keep machine-learning models working in production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that register commands on ``app``; heavy imports stay inside the command functions.
COMMAND_MODULES: list[str] = [
    "mlwarden.commands.check",
    "mlwarden.commands.contract",
    "mlwarden.commands.demo",
    "mlwarden.commands.features",
    "mlwarden.commands.retrain",
    "mlwarden.commands.service",
    "mlwarden.commands.config",
    "mlwarden.commands.alerts",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help=f"Show the traceback of an internal error (or {DEBUG_ENV}=1).")
    ] = False,
) -> None:
    """Keep machine-learning models working in production."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


@app.command()
def version() -> None:
    """Print the installed mlwarden version."""
    from mlwarden import __version__

    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: user mistakes become one line on stderr and exit code 2; anything
    unexpected is an internal error, one line and exit code 3 (never 1, which means critical findings)."""
    try:
        app()
    except (MlwardenError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", markup=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            traceback.print_exc()
        summary = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        err_console.print(
            f"[red]internal error:[/red] {escape(summary)}; rerun with --debug for the traceback", markup=True
        )
        sys.exit(INTERNAL_ERROR)
