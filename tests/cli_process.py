"""Run the ``mlwarden`` command line as a real process (exit codes and one-line errors come from the
console-script entry point, as a user sees them)."""

from __future__ import annotations

import subprocess
import sys


def mlwarden(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlwarden", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
