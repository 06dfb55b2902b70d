"""Model performance: realized once labels arrive, estimated without them (CBPE, DLE)."""

from mlwarden.performance.cbpe import CBPE
from mlwarden.performance.dle import DLE
from mlwarden.performance.estimate import estimate_performance
from mlwarden.performance.findings import estimate_mismatch, performance_findings
from mlwarden.performance.realized import (
    classification_metrics,
    multiclass_metrics,
    realized_performance,
    regression_metrics,
    task_of,
)

__all__ = [
    "CBPE",
    "DLE",
    "classification_metrics",
    "estimate_mismatch",
    "estimate_performance",
    "multiclass_metrics",
    "performance_findings",
    "realized_performance",
    "regression_metrics",
    "task_of",
]
