"""Model performance: realized once labels arrive, estimated without them (CBPE, DLE).

:func:`assess_performance` is the entry point: both kinds for a current window, with findings and notes.
"""

from mlwarden.performance.assess import (
    Assessment,
    ReferenceFit,
    assess_performance,
    fit_reference,
    measure_performance,
    realized_performance,
)
from mlwarden.performance.cbpe import CBPE
from mlwarden.performance.classes import ModelClasses, model_classes
from mlwarden.performance.dle import DLE
from mlwarden.performance.findings import (
    PerformanceTest,
    decide_jointly,
    estimate_mismatch,
    performance_findings,
)
from mlwarden.performance.realized import classification_metrics, regression_metrics

__all__ = [
    "CBPE",
    "DLE",
    "Assessment",
    "ModelClasses",
    "PerformanceTest",
    "ReferenceFit",
    "assess_performance",
    "classification_metrics",
    "decide_jointly",
    "estimate_mismatch",
    "fit_reference",
    "measure_performance",
    "model_classes",
    "performance_findings",
    "realized_performance",
    "regression_metrics",
]
