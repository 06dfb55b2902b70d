"""The end-to-end demo: realistic churn data that drifts and breaks, and the checks that catch it."""
