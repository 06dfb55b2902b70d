"""Every fenced code block of README.md, docs/*.md and examples/*.md runs as written.

The conventions a doc author writes to — the harness injects no setup code into any block:

- **Tags.** Every block is tagged ``python``, ``bash``/``sh``/``shell``/``console``, ``yaml``/``yml`` or
  ``json``. Any other tag, or none, fails: show output inside a ``console`` block, after the command.
- **Working directory.** Each Markdown file runs in its own fresh temporary directory holding a copy of
  ``demo-output/``, written once per session by ``mlwarden demo --output demo-output``: ``reference.parquet``
  (the labelled reference), ``hour-5.parquet`` (the worst hour), ``report.json``, ``report.html`` and the
  SQLite store ``mlwarden.db``. It also reads like the root of a checkout: the repository's folders
  (``bench/``, ``examples/``, ``src/`` …) are linked in, and ``.venv`` is the running interpreter's
  environment — leave them unchanged. ``HOME`` is that directory too, so nothing touches the real
  ``~/.mlwarden``.
- **python** blocks of one file run in order, in this process, in one namespace: a block may use what an
  earlier block of the same file defined, and nothing else (import and read what it needs).
- **bash/sh/shell** blocks run with ``bash -euo pipefail``, the venv's ``bin`` first on ``PATH`` and
  ``PYTHONPATH`` kept. A block passes when bash exits 0, so a command documented to exit non-zero is written
  as it would be in CI: ``mlwarden check a b || test $? -eq 1``.
- **console** blocks: only the lines after a ``$ `` prompt run (with their ``\\`` continuation lines), as a
  bash block; the other lines are shown output and are not compared.
- **make**: a ``make TARGET`` line runs as ``make -n -C REPO TARGET`` (dry run): ``make test`` runs this
  very suite, and the demo already ran in the session fixture.
- **Servers**: a block may start a long-running process in the background with ``&`` followed by a
  readiness wait (``mlwarden serve --port 8787 &`` then ``curl --retry-connrefused … /healthz``). It serves
  the following blocks of the same file and is stopped (SIGTERM to the block's process group) when the
  file's run ends.
- **yaml/json** blocks are parsed. ``<!-- docs-test: save PATH -->`` on the line right above a block writes
  the block to PATH in the working directory (a config file a later block uses);
  ``<!-- docs-test: keys-within PATH -->`` checks that every key of the block exists in the real JSON or
  YAML file at PATH (items of a list against the real item they match best).
- Every block has ``BLOCK_TIMEOUT`` seconds. All failing blocks of a file are listed, not only the first.

``test_docs_cite_only_files_in_the_repository`` checks that a doc's relative links, ``*.md`` names and
paths under the repository's top-level folders all exist in the repository.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
import yaml
from docs_blocks import DIRECTIVES, Block, blocks, console_commands, dry_run_make, missing_keys

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "examples").glob("*.md")])
SHELLS = ("bash", "sh", "shell", "console")
DATA = ("yaml", "yml", "json")
TAGS = ", ".join(("python", *SHELLS, *DATA))
BLOCK_TIMEOUT = 120
DEMO_TIMEOUT = 300
DEMO_FILES = ("reference.parquet", "hour-5.parquet", "report.json")
NOT_SOURCE = {".git", ".venv", ".venv-peers", "demo-output", ".pytest_cache", ".ruff_cache", "build"}
TOP_LEVEL = sorted(
    p.name
    for p in REPO.iterdir()
    if p.is_dir() and p.name not in NOT_SOURCE and not p.name.endswith(".egg-info")
)


def _environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    env.pop("MLWARDEN_DB", None)
    return env


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files ``mlwarden demo --output demo-output`` writes, made once per session."""
    home = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "mlwarden", "demo", "--output", "demo-output"],
        cwd=home,
        env=_environment(home),
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT,
    )
    if done.returncode != 0:
        pytest.fail(f"mlwarden demo exited {done.returncode}:\n{done.stderr[-3000:]}")
    output = home / "demo-output"
    missing = [name for name in DEMO_FILES if not (output / name).exists()]
    if missing:  # hour-5 is the worst hour, the one the demo writes: the docs need a new hour if it changed
        pytest.fail(f"the docs read {', '.join(missing)}, which the demo no longer writes", pytrace=False)
    return output


class DocRun:
    """Runs one Markdown file's blocks in order in ``workdir``; collects a failure line per failing block."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.namespace: dict[str, object] = {"__name__": "__docs__"}
        self.background: list[int] = []
        self.failures: list[str] = []

    def run(self, block: Block) -> None:
        try:
            problem = self._run(block)
        except Exception as exc:  # a block's own exception is its failure, reported with the others
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            self.failures.append(f"{block.where}: {problem}")

    def _run(self, block: Block) -> str | None:
        if block.directive and block.directive[0] not in DIRECTIVES:
            return f"unknown directive {block.directive[0]!r} (known: {', '.join(DIRECTIVES)})"
        if block.language == "python":
            return self._python(block)
        if block.language in SHELLS:
            script = console_commands(block.text) if block.language == "console" else block.text
            return self._bash(script)
        if block.language in DATA:
            return self._data(block)
        return f"no runner for a block tagged {block.language!r}: tag it {TAGS}"

    def _python(self, block: Block) -> str | None:
        code = compile(block.text, f"{block.path.name}:{block.line}", "exec")
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output):
                exec(code, self.namespace)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            frames = traceback.extract_tb(exc.__traceback__)
            in_block = [f for f in frames if f.filename == code.co_filename]
            if not in_block:
                return f"{type(exc).__name__}: {exc}"
            statement = block.text.splitlines()[in_block[-1].lineno - 1].strip()
            message = str(exc).splitlines()[0] if str(exc) else statement
            return f"line {block.line + in_block[-1].lineno}: {type(exc).__name__}: {message}"
        return None

    def _bash(self, script: str) -> str | None:
        script = dry_run_make(script, REPO)
        out_path, err_path = self.workdir / ".block.out", self.workdir / ".block.err"
        # Output goes to files, not pipes: a server the block leaves running keeps its ends of the files.
        with out_path.open("w") as out, err_path.open("w") as err:
            process = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=self.workdir,
                env=_environment(self.workdir),
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.background.append(process.pid)
        try:
            code = process.wait(timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            return f"still running after {BLOCK_TIMEOUT} s"
        if code == 0:
            return None
        tail = (err_path.read_text() or out_path.read_text()).strip().splitlines()[-3:]
        return f"bash exited {code}: {' | '.join(tail)}"

    def _data(self, block: Block) -> str | None:
        parsed = json.loads(block.text) if block.language == "json" else yaml.safe_load(block.text)
        if block.directive is None:
            return None
        verb, argument = block.directive
        target = self.workdir / argument
        if verb == "save":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
            return None
        if not target.exists():
            return f"keys-within: {argument} does not exist in the working directory"
        real_text = target.read_text(encoding="utf-8")
        real = json.loads(real_text) if target.suffix == ".json" else yaml.safe_load(real_text)
        missing = missing_keys(parsed, real)
        return f"keys not in {argument}: {', '.join(missing)}" if missing else None

    def stop_background(self) -> None:
        for group in self.background:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGTERM)


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_doc_blocks_run_as_written(
    doc: Path, demo_output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(demo_output, tmp_path / "demo-output")
    for name in TOP_LEVEL:  # the directory reads like a checkout's root: bench/…, examples/…, .venv/bin/…
        (tmp_path / name).symlink_to(REPO / name)
    (tmp_path / ".venv").symlink_to(sys.prefix)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("MLWARDEN_DB", raising=False)
    runner = DocRun(tmp_path)
    try:
        for block in blocks(doc):
            runner.run(block)
    finally:
        runner.stop_background()
    if runner.failures:
        pytest.fail("\n".join(runner.failures), pytrace=False)


CITATION = re.compile(
    r"\]\((?P<link>[^)\s]+)\)"  # a Markdown link target
    r"|(?<![\w/.~-])(?P<md>[\w.-]+\.md)\b"  # a Markdown file named anywhere
    rf"|(?<![\w/.~-])(?P<path>(?:{'|'.join(re.escape(t) for t in TOP_LEVEL)})/[\w./-]*\w)"
)


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(REPO)) for d in DOCS])
def test_docs_cite_only_files_in_the_repository(doc: Path) -> None:
    outside: list[str] = []
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        for match in CITATION.finditer(line):
            cited = match["link"] or match["md"] or match["path"]
            if re.match(r"^(https?:|mailto:|#)", cited):
                continue
            relative = cited.split("#", 1)[0]
            candidates = [doc.parent / relative] + ([] if match["link"] else [REPO / relative])
            if not any(c.resolve().is_relative_to(REPO) and c.exists() for c in candidates):
                outside.append(f"{doc.name}:{number}: {cited}")
    if outside:
        pytest.fail("cited files that are not in the repository:\n" + "\n".join(outside), pytrace=False)


def test_the_harness_fails_untagged_and_unknown_blocks_and_runs_the_rest(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "```\nplain\n```\n"
        "```text\nshown\n```\n"
        "```python\nanswer = 6 * 7\n```\n"
        "  ```python\n  assert answer == 42\n  ```\n"
        "```console\n$ test -d . && \\\n  echo continued\ncontinued\n$ exit 3\n```\n"
        "```bash\nfalse || test $? -eq 1\nsleep 300 &\n```\n"
        '<!-- docs-test: keys-within real.json -->\n```json\n{"a": [{"b": 1}, {"c": 2}]}\n```\n'
        "<!-- docs-test: save conf/settings.yaml -->\n```yaml\nalpha: 0.01\n```\n"
        "```sh\ngrep -qx 'alpha: 0.01' conf/settings.yaml\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "real.json").write_text('{"a": [{"b": 0, "x": 1}, {"x": 2}]}', encoding="utf-8")
    runner = DocRun(tmp_path)
    for block in blocks(doc):
        runner.run(block)
    sleeper = runner.background[-1]
    runner.stop_background()
    assert [failure.split(": ", 1)[0] for failure in runner.failures] == [
        "doc.md:1 (untagged)",
        "doc.md:4 (text)",
        "doc.md:13 (console)",
        "doc.md:24 (json)",
    ]
    assert runner.failures[2].endswith("bash exited 3: continued")  # the continuation line ran
    assert runner.failures[3].endswith("keys not in real.json: a[].c")
    deadline = time.monotonic() + 10
    while _running_in_group(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running_in_group(sleeper)


def _running_in_group(group: int) -> list[int]:
    """Pids of the live (not zombie) processes of process group ``group``, from /proc."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                running.append(int(stat.parent.name))
    return running


def test_make_lines_become_dry_runs_in_the_repository() -> None:
    script = "make demo   # comment\n  make test lint\nmake -n lint\necho make demo\n"
    assert dry_run_make(script, REPO).splitlines() == [
        f"make -n -C {REPO} demo   # comment",
        f"  make -n -C {REPO} test lint",
        "make -n lint",
        "echo make demo",
    ]
