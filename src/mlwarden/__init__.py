"""mlwarden: keep machine-learning models working in production.

>>> import mlwarden as mw
>>> ref = mw.profile(reference_df)
>>> report = mw.compare(ref, current_df, target="y", prediction="y_pred")
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Public names, imported on first use so `import mlwarden` stays fast for the CLI and serving clients.
_EXPORTS = {
    "Finding": "mlwarden.findings",
    "Severity": "mlwarden.findings",
    "InputError": "mlwarden.errors",
    "profile": "mlwarden.profile",
    "merge": "mlwarden.profile",
    "DatasetProfile": "mlwarden.profile",
    "ColumnProfile": "mlwarden.profile",
    "load_profile": "mlwarden.profile",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlwarden' has no attribute {name!r}")
    return getattr(import_module(module), name)
