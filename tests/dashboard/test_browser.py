"""The dashboard in Debian's chromium (Selenium, Debian's chromedriver — no browser download) against a real
``mlwarden demo --serve`` process: every page loads without console errors, its charts are drawn, a click
on a heatmap cell opens that window's report, the inbox's Acknowledge button changes an alert's state.
Screenshots go to the test's temp dir (and, with ``MLWARDEN_SCREENSHOTS=DIR``, to DIR too: that is how
docs/screenshots/ is made)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PAGES = [("fleet", "/"), ("model", "/models/churn"), ("alerts", "/alerts?status=all"), ("audit", "/audit")]


def browser_or_skip() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        message = (
            f"{', '.join(missing)} missing (Debian packages chromium, chromium-driver; .ci/run installs them)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``mlwarden demo --serve`` as a user runs it; yields (url, token) once it prints them."""
    browser_or_skip()
    out = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "HOME": str(out)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlwarden",
            "demo",
            "--serve",
            "--port",
            str(port),
            "-o",
            str(out),
            "--rows",
            "800",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    token = None
    deadline = time.monotonic() + 120
    try:
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                pytest.fail("demo --serve exited early:\n" + "".join(lines))
            lines.append(line)
            found = re.search(r"\b(mlw_[\w-]{20,})\b", line)
            if found and "admin token" in "".join(lines[-3:]):
                token = found[1]
        assert token, "".join(lines)
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url)
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_up(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture(scope="module")
def browser(demo):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    url, token = demo
    driver.get(f"{url}/login")
    driver.find_element("name", "token").send_keys(token)
    driver.find_element("css selector", "form button[type=submit]").click()
    _wait(driver, lambda d: d.current_url.rstrip("/") == url)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout: float = 30.0):
    """Wait until ``condition(driver)`` holds; an element not there yet, or replaced by the page while the
    condition read it (stale), is looked up again at the next poll."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def _errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _charts_drawn(driver) -> int:
    """Wait until every chart of the page is drawn; how many there are."""
    charts = driver.find_elements("css selector", ".chart[data-figure]")
    _wait(driver, lambda d: all(c.get_attribute("data-rendered") == "1" for c in charts))
    for chart in charts:  # plotly's SVG with drawn marks: heatmap image, lines or bars
        marks = chart.find_elements("css selector", ".heatmaplayer image, .scatterlayer path, .barlayer path")
        assert marks, chart.get_attribute("id")
    return len(charts)


def _shoot(driver, tmp_path: Path, name: str) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(max(height, 800), 6000))
    driver.save_screenshot(str(tmp_path / f"{name}.png"))
    extra = os.environ.get("MLWARDEN_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / f"{name}.png", Path(extra) / f"{name}.png")
    driver.set_window_size(1400, 1000)


def test_every_page_loads_without_console_errors_and_draws_its_charts(browser, demo, tmp_path) -> None:
    url, _ = demo
    drawn = {}
    for name, path in PAGES:
        browser.get(url + path)
        drawn[name] = _charts_drawn(browser)
        assert _errors(browser) == [], name
        _shoot(browser, tmp_path, name)
    assert drawn["model"] >= 4  # heatmap, performance per metric, data quality, alert timeline
    assert "churn" in browser.page_source
    browser.get(url + "/alerts")
    rows = browser.find_elements("css selector", "table.alerts tr[id^=alert-]")
    assert rows, "the demo's broken hours raise alerts"
    assert all((tmp_path / f"{name}.png").stat().st_size > 10_000 for name, _ in PAGES)


def test_a_heatmap_cell_opens_that_windows_report(browser, demo, tmp_path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    url, _ = demo
    browser.get(f"{url}/models/churn")
    _charts_drawn(browser)
    heatmap = browser.find_element("css selector", "#heatmap .nsewdrag")
    width, height = heatmap.size["width"], heatmap.size["height"]
    # the last column of cells: the newest window; offsets are from the drag layer's centre
    ActionChains(browser).move_to_element_with_offset(
        heatmap, int(width * 0.45), int(-height * 0.3)
    ).click().perform()
    _wait(browser, lambda d: "/windows/" in d.current_url)
    assert re.search(r"/models/churn/windows/\d{4}-\d\d-\d\dT\d\d%3A00%3A00%2B00%3A00$", browser.current_url)
    assert "Findings" in browser.page_source and "Feature drift" in browser.page_source
    assert _errors(browser) == []
    _shoot(browser, tmp_path, "window")


def test_acknowledge_changes_an_alerts_state(browser, demo, tmp_path) -> None:
    url, _ = demo
    browser.get(f"{url}/alerts?status=all")
    firing = browser.find_elements("css selector", "tr[data-state=firing]")
    assert firing, "the demo's broken hours raise firing alerts"
    alert = firing[0].get_attribute("id")
    firing[0].find_element("css selector", "button.ack").click()
    _wait(browser, lambda d: d.find_element("id", alert).get_attribute("data-state") == "acknowledged")
    assert "by growth/dashboard" in browser.find_element("id", alert).text
    assert _errors(browser) == []
    _shoot(browser, tmp_path, "alerts-acknowledged")
