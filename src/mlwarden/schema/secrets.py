"""``${ENV_NAME}`` secret references in model configuration files (DESIGN §5).

A configuration stores the reference, never the value: the value is read from the server's environment at
the moment it is used (:func:`resolve`) and is never stored, logged or returned (:func:`redact`).
"""

from __future__ import annotations

import os
import re

from mlwarden.errors import InputError

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def is_reference(text: str) -> bool:
    """True when ``text`` contains at least one ``${NAME}`` reference."""
    return bool(_REFERENCE.search(text))


def names(text: str) -> list[str]:
    """The environment variables ``text`` refers to, in order."""
    return _REFERENCE.findall(text)


def resolve(text: str, *, field: str = "secret") -> str:
    """``text`` with every ``${NAME}`` replaced by the environment's value.

    Raises :class:`InputError` naming ``field`` and the variable when one is not set."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise InputError(f"{field}: environment variable {name} is not set on the server")
        return os.environ[name]

    return _REFERENCE.sub(value, text)


def redact(text: str) -> str:
    """What may be shown of a configured value: references as written, a literal secret as ``***``."""
    return text if is_reference(text) else "***"
