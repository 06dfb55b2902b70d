"""The ``mlwarden`` command line. Each command lives in ``mlwarden.commands.<name>`` with a ``register(app)``.

Exit codes: 0 success (nothing critical), 1 critical findings, 2 bad input (usage errors included).
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from mlwarden.errors import MlwardenError

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
    "mlwarden.commands.service",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def _root() -> None:
    """Keep machine-learning models working in production."""


@app.command()
def version() -> None:
    """Print the installed mlwarden version."""
    from mlwarden import __version__

    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        app()
    except (MlwardenError, FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", markup=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("aborted")
        sys.exit(130)
