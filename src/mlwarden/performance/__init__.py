"""Model performance: realized once labels arrive."""

from mlwarden.performance.realized import classification_metrics, realized_performance, regression_metrics

__all__ = ["classification_metrics", "realized_performance", "regression_metrics"]
