"""Model performance: realized once labels arrive, estimated without them (CBPE, DLE)."""

from mlwarden.performance.cbpe import CBPE
from mlwarden.performance.dle import DLE
from mlwarden.performance.realized import classification_metrics, realized_performance, regression_metrics

__all__ = ["CBPE", "DLE", "classification_metrics", "realized_performance", "regression_metrics"]
