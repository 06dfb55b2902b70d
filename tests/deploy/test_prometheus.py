"""deploy/prometheus/rules.yml with Debian's promtool: the rules parse, their unit tests pass, and a real
scrape of /metrics (performance, volume, freshness included) passes ``promtool check metrics``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from dashboard_data import MODEL, seed

from mlwarden.server.background import BackgroundServer
from mlwarden.store import Store

RULES = Path(__file__).parents[2] / "deploy" / "prometheus"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool not installed (Debian package prometheus; .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=RULES, timeout=120)


def test_rules_parse_and_their_unit_tests_pass() -> None:
    tool = promtool()
    checked = run(tool, "check", "rules", "rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout
    tested = run(tool, "test", "rules", "rules_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


def test_a_real_scrape_has_performance_volume_and_freshness(store: Store) -> None:
    tool = promtool()
    with BackgroundServer(store, evaluate_every=None) as server, httpx.Client(base_url=server.url) as client:
        tokens = seed(client, store)
        scrape = client.get("/metrics", headers={"Authorization": f"Bearer {tokens['growth_read']}"})
    assert scrape.status_code == 200
    text = scrape.text
    checked = run(tool, "check", "metrics", stdin=text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the drifted, labelled hour is the latest: its rows, its estimate inside its band, its realized value
    assert sample(text, "mlwarden_window_rows", model=MODEL) == 600
    estimate = sample(text, "mlwarden_estimated_performance", model=MODEL, metric="roc_auc")
    lower = sample(text, "mlwarden_estimated_performance_bound", model=MODEL, metric="roc_auc", bound="lower")
    upper = sample(text, "mlwarden_estimated_performance_bound", model=MODEL, metric="roc_auc", bound="upper")
    assert 0.5 < lower <= estimate <= upper < 1
    assert 0.5 < sample(text, "mlwarden_realized_performance", model=MODEL, metric="roc_auc") < 1
    assert sample(text, "mlwarden_performance_slo", model=MODEL, metric="roc_auc", direction="min") == 0.8
    for kind in ("batch", "label", "evaluation"):
        assert 0 <= sample(text, f"mlwarden_seconds_since_last_{kind}", model=MODEL) < 120
    assert not re.search(r'model="fraud"', text)  # team risk's model: not in growth's scrape
