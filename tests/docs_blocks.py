"""Fenced code blocks of a Markdown file, and the one directive a block may carry (see tests/test_docs.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<verb>[\w-]+)\s+(?P<argument>\S+)\s*-->\s*$")
DIRECTIVES = ("save", "keys-within")


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: its language tag ("" when untagged), text, and where it starts (1-based line)."""

    path: Path
    line: int
    language: str
    text: str
    directive: tuple[str, str] | None = None

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line} ({self.language or 'untagged'})"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` in order. A fence may be indented (inside a list item): the block's
    lines lose that indentation. ``<!-- docs-test: VERB ARGUMENT -->`` on the line right above a fence
    attaches a directive to that block. An unclosed fence raises ValueError."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        info = opening["info"].strip()
        language = info.split()[0].lower() if info else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        else:
            raise ValueError(f"{path.name}:{i + 1}: code fence never closed")
        directive = DIRECTIVE.match(lines[i - 1]) if i > 0 else None
        found.append(
            Block(
                path=path,
                line=i + 1,
                language=language,
                text="\n".join(body) + "\n",
                directive=(directive["verb"], directive["argument"]) if directive else None,
            )
        )
        i = j + 1
    return found


def console_commands(text: str) -> str:
    """The commands of a ``console`` block: lines after a ``$ `` prompt, with their ``\\`` continuation
    lines; every other line is shown output and is not run."""
    commands: list[str] = []
    continuing = False
    for line in text.splitlines():
        if continuing:
            commands.append(line)
        elif line.startswith("$ "):
            commands.append(line[2:])
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return "\n".join(commands) + "\n"


MAKE_LINE = re.compile(
    r"^(?P<indent>[ \t]*)make(?P<rest>([ \t]+[\w.][\w.-]*)+)(?P<comment>[ \t]*#.*)?$", re.MULTILINE
)


def dry_run_make(script: str, repo: Path) -> str:
    """``script`` with each ``make TARGET…`` line turned into ``make -n -C REPO TARGET…``: the doc suite
    itself runs under ``make test``, and the demo already ran once in the fixture."""
    return MAKE_LINE.sub(lambda m: f"{m['indent']}make -n -C {repo}{m['rest']}{m['comment'] or ''}", script)


def missing_keys(example: object, real: object, where: str = "") -> list[str]:
    """Paths of keys in ``example`` that ``real`` lacks, recursively. Mappings are compared key by key; each
    item of a list in ``example`` is compared with the item of the same list in ``real`` that it matches
    best (fewest missing keys), so an example finding must have the shape of some real finding."""
    if isinstance(example, dict) and isinstance(real, dict):
        out: list[str] = []
        for key, value in example.items():
            path = f"{where}.{key}" if where else str(key)
            out += [path] if key not in real else missing_keys(value, real[key], path)
        return out
    if isinstance(example, list) and isinstance(real, list) and real:
        out = []
        for item in example:
            out += min((missing_keys(item, candidate, f"{where}[]") for candidate in real), key=len)
        return out
    return []
