"""Alerts (DESIGN §7): findings → rules → alert state → routing, grouping, inhibition and silences → an
outbox of notifications that a sender delivers to receivers with retries."""
