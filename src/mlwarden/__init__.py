"""mlwarden: keep machine-learning models working in production.

>>> import mlwarden as mw
>>> ref = mw.profile(reference_df)
>>> report = mw.compare(ref, current_df, target="y", prediction="y_pred")
>>> mapping = mw.ColumnMapping(target="y", scores="p_yes", id="customer_id")
>>> report = mw.compare(reference_df, current_df, mapping=mapping, slo={"roc_auc": 0.78})
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# `profile` is both a subpackage and its main function: bind the function eagerly so `mw.profile(df)` works.
from mlwarden.profile import ColumnProfile, DatasetProfile, load_profile, merge, profile

__version__ = "0.1.0"

# Further public names, imported on first use so `import mlwarden` stays light.
_LAZY = {
    "Finding": "mlwarden.findings",
    "Severity": "mlwarden.findings",
    "InputError": "mlwarden.errors",
    "ColumnMapping": "mlwarden.schema",
    "ModelConfig": "mlwarden.schema.config",
    "compare": "mlwarden.comparison",
    "evaluate": "mlwarden.comparison",
    "Monitor": "mlwarden.chunks",
    "ChunkedReport": "mlwarden.chunks",
}

__all__ = [
    "ChunkedReport",
    "ColumnMapping",
    "ColumnProfile",
    "DatasetProfile",
    "Finding",
    "InputError",
    "ModelConfig",
    "Monitor",
    "Severity",
    "compare",
    "evaluate",
    "load_profile",
    "merge",
    "profile",
]


# Subpackages reachable as attributes without an import of their own (``mw.retrain.gate(...)``).
_SUBPACKAGES = ("retrain",)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return import_module(f"mlwarden.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlwarden' has no attribute {name!r}")
    return getattr(import_module(module), name)
