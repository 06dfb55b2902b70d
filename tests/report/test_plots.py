"""The report's inline plots: out-of-range current values drawn, axes with ticks, discrete columns as bars."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mlwarden.profile import profile
from mlwarden.report.plots import numeric_svg


def profiles(ref: pd.DataFrame, cur: pd.DataFrame):
    reference = profile(ref)
    return reference, profile(cur, reference=reference)


def labels(svg: str) -> list[str]:
    return re.findall(r'class="axis"[^>]*>([^<]+)</text>', svg)


def test_current_values_beyond_the_reference_extend_the_axis() -> None:
    rng = np.random.default_rng(0)
    ref, cur = profiles(
        pd.DataFrame({"x": rng.uniform(0, 10, 5_000)}), pd.DataFrame({"x": rng.uniform(0, 20, 5_000)})
    )
    svg = numeric_svg(ref.columns["x"], cur.columns["x"])
    ticks = labels(svg)
    assert ticks[-2:] == ["value", "density"]  # axis titles
    x_ticks = [float(t) for t in ticks[:5]]
    assert x_ticks[0] < 0.1 and 19.5 < x_ticks[-1] <= 20  # the axis reaches the current maximum
    assert svg.count('stroke-dasharray="3,2"') == 2  # the reference's range, marked
    assert svg.count("<polyline") == 2  # current inside the range, and the part above it


def test_a_column_of_few_values_is_bars_of_each_values_share() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"calls": rng.choice([0, 1, 2, 3], 4_000, p=[0.4, 0.3, 0.2, 0.1])})
    cur = pd.DataFrame({"calls": rng.choice([0, 1, 2, 3], 4_000, p=[0.1, 0.2, 0.3, 0.4])})
    reference, current = profiles(ref, cur)
    svg = numeric_svg(reference.columns["calls"], current.columns["calls"])
    assert svg.count("<rect") == 8  # four values, two sides
    ticks = labels(svg)
    assert ticks[:4] == ["0", "1", "2", "3"] and ticks[-2:] == ["value", "share"]
