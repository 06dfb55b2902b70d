"""Reports: the result of a comparison as Python objects, strict JSON and a self-contained HTML page."""

from mlwarden.report.report import Report

__all__ = ["Report"]
