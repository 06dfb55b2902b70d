"""`mlwarden demo` as a user runs it: a real process, the service in-process, files in the output folder."""

import json
import os
import re
import subprocess
import sys


def test_demo_runs_the_service_end_to_end(tmp_path):
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    (out / "mlwarden.db").write_text("a stale store from an earlier run")  # must be replaced, not opened
    env = {**os.environ, "HOME": str(home), "COLUMNS": "160"}
    r = subprocess.run(
        [sys.executable, "-m", "mlwarden", "demo", "--output", str(out), "--rows", "1500"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "model churn of team growth" in text and "token='mlw_" in text
    assert "16,500 rows acknowledged" in text  # 6 hours of predictions, labels for the first 5
    hours = [line for line in text.splitlines() if re.match(r"│ \d\d:00–\d\d:00", line)]
    assert len(hours) == 6 and all("1,500" in line for line in hours)
    assert all("none" in line for line in hours[:2]), "healthy hours raise nothing"
    assert all("monthly_charges" in line for line in hours[2:]), "the price rise is drift"
    assert all("critical quality.constant" in line for line in hours[4:]), "the broken pipeline is critical"
    assert "open alerts (GET /v1/alerts)" in text
    assert re.search(r"critical\s*│\s*quality\.constant\s*│\s*tenure_months", text)
    assert "page Ada Lovelace <ada@example.com> via pagerduty:churn-model" in text
    assert 'mlwarden_drift_score{column="tenure_months",model="churn",team="growth"}' in text
    assert "next (not in this build yet)" in text
    assert (out / "report.html").stat().st_size > 10_000
    report = json.loads((out / "report.json").read_text())
    critical = {(f["check"], f["column"]) for f in report["findings"] if f["severity"] == "critical"}
    assert ("quality.constant", "tenure_months") in critical
    assert (out / "mlwarden.db").stat().st_size > 100_000
    assert not (home / ".mlwarden").exists(), "the demo never touches the user's own store or spool"
