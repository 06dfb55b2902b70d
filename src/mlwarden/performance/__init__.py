"""Model performance: realized once labels arrive, estimated without them (CBPE, DLE).

:func:`assess_performance` is the entry point: both kinds for a current window, with findings and notes.
"""

from mlwarden.performance.assess import ReferenceFit, assess_performance, fit_reference, realized_performance
from mlwarden.performance.cbpe import CBPE
from mlwarden.performance.classes import ModelClasses, model_classes
from mlwarden.performance.dle import DLE
from mlwarden.performance.findings import estimate_mismatch, performance_findings
from mlwarden.performance.realized import classification_metrics, regression_metrics

__all__ = [
    "CBPE",
    "DLE",
    "ModelClasses",
    "ReferenceFit",
    "assess_performance",
    "classification_metrics",
    "estimate_mismatch",
    "fit_reference",
    "model_classes",
    "performance_findings",
    "realized_performance",
    "regression_metrics",
]
