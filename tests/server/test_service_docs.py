"""Every code block of docs/service.md runs as written: Python blocks in order in one namespace, bash
blocks with the CLI on a temporary store (``MLWARDEN_DB``) and a temporary home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "service.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(DOC.read_text()) if lang == language]


def test_python_blocks_run(capsys) -> None:
    found = blocks("python")
    assert found
    namespace: dict = {}
    for code in found:
        exec(compile(code, str(DOC), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "{'water': 'p_water', 'desert': 'p_desert', 'clouds': 'p_clouds'}" in printed
    assert "422 columns.scores: expected at least one score column" in printed


def test_bash_blocks_run(tmp_path) -> None:
    found = blocks("bash")
    assert found
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "HOME": str(tmp_path), "MLWARDEN_DB": str(tmp_path / "docs.db")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    for code in found:
        result = subprocess.run(
            ["bash", "-e", "-c", code], env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
    assert '"scores": "churn_score"' in result.stdout and '"ignore": [\n      "request_id"' in result.stdout
