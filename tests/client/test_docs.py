"""docs/client.md runs as written: its python blocks, in order, in one namespace (they start a server)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def test_the_client_docs_run_as_written(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    try:
        for number, block in enumerate(blocks):
            exec(compile(block, f"{DOC.name}, python block {number + 1}", "exec"), namespace)
    finally:
        stack = namespace.get("stack")
        if stack is not None:
            stack.close()  # type: ignore[attr-defined]
