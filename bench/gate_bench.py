"""The champion/challenger gate: its time on 100k rows, its false-promotion rate and its power.

    .venv/bin/python bench/gate_bench.py                  # 100 000 rows timed; 200 pairs of 5 000 rows
    .venv/bin/python bench/gate_bench.py --pairs 50 --pair-rows 2000

Data: a latent risk drives a binary label (about 40 % positive); each model scores the risk plus its own
independent Gaussian noise and predicts the positive class at score ≥ 0.5; a ``segment`` column has 10
values (slices of about 10 % of the rows each).

1. **time**: ``gate`` on ``--rows`` labelled rows with the 10 slices, per metric (roc_auc: DeLong,
   accuracy: McNemar, f1: the paired stratified bootstrap of 2 000 draws), best of ``--repeat`` runs;
2. **false promotions**: ``--pairs`` pairs of *equal* models — the same risk with independent noise of the
   same scale (so equally good in expectation, never identical columns) — each on fresh rows; any
   ``promote`` is a false promotion (target: at most 1 − confidence); ``reject`` here is a false rejection
   ("slice regressed": the share of pairs with a slice called regressed);
3. **power**: the same with a challenger whose noise is ``--better`` times the champion's (a real
   improvement, its true size printed in the table), the share promoted.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
import pandas as pd

METRICS = {"roc_auc": ("score_a", "score_b"), "accuracy": ("pred_a", "pred_b"), "f1": ("pred_a", "pred_b")}
SEGMENTS = np.array([f"s{i}" for i in range(10)])


def pair(n: int, rng: np.random.Generator, challenger_noise: float = 1.0) -> pd.DataFrame:
    """Labelled rows scored by a champion (noise 1) and a challenger (noise ``challenger_noise``)."""
    risk = rng.normal(size=n)
    label = (risk + rng.normal(size=n) > 0.3).astype(int)
    a = 1 / (1 + np.exp(-(risk - 0.3 + rng.normal(size=n))))
    b = 1 / (1 + np.exp(-(risk - 0.3 + challenger_noise * rng.normal(size=n))))
    return pd.DataFrame(
        {
            "label": label,
            "score_a": a,
            "score_b": b,
            "pred_a": (a >= 0.5).astype(int),
            "pred_b": (b >= 0.5).astype(int),
            "segment": SEGMENTS[rng.integers(0, len(SEGMENTS), n)],
        }
    )


def run_gate(frame: pd.DataFrame, metric: str, confidence: float):
    from mlwarden.retrain import gate

    champion, challenger = METRICS[metric]
    return gate(
        frame,
        target="label",
        champion=champion,
        challenger=challenger,
        metric=metric,
        slices=["segment"],
        confidence=confidence,
    )


def timing(rows: int, repeat: int, confidence: float) -> None:
    frame = pair(rows, np.random.default_rng(0), challenger_noise=0.9)
    print(f"time: {rows:,} labelled rows, {len(SEGMENTS)} slices (best of {repeat})")
    print(f"{'metric':<10} {'test':<10} {'seconds':>8} {'decision':>9}")
    total = 0.0
    for metric in METRICS:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            result = run_gate(frame, metric, confidence)
            best = min(best, time.perf_counter() - start)
        total += best
        print(f"{metric:<10} {result.test:<10} {best:>8.3f} {result.decision:>9}")
    print(f"{'all three':<10} {'':<10} {total:>8.3f}   (target < 2 s)")


def decisions(pairs: int, rows: int, noise: float, confidence: float, seed: int) -> dict[str, Counter]:
    """Per metric: how many pairs were promoted, held, rejected, and had a slice called regressed."""
    rng = np.random.default_rng(seed)
    tally = {metric: Counter() for metric in METRICS}
    for _ in range(pairs):
        frame = pair(rows, rng, challenger_noise=noise)
        for metric in METRICS:
            result = run_gate(frame, metric, confidence)
            tally[metric][result.decision] += 1
            tally[metric]["slice regressed"] += any(s.regressed for s in result.slices)
    return tally


def true_auc_gain(noise: float, rng: np.random.Generator, n: int = 2_000_000) -> float:
    from sklearn.metrics import roc_auc_score

    big = pair(n, rng, challenger_noise=noise)
    return roc_auc_score(big["label"], big["score_b"]) - roc_auc_score(big["label"], big["score_a"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--pair-rows", type=int, default=5_000)
    parser.add_argument("--better", type=float, default=0.85, help="challenger noise / champion noise")
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    timing(args.rows, args.repeat, args.confidence)

    print()
    gain = true_auc_gain(args.better, np.random.default_rng(args.seed + 1))
    print(
        f"decisions over {args.pairs} pairs of {args.pair_rows:,} rows, {len(SEGMENTS)} slices, "
        f"confidence {args.confidence}"
    )
    columns = ("promote", "hold", "reject", "slice regressed")
    print(f"{'metric':<10} {'pairs':<34} {'promote':>8} {'hold':>6} {'reject':>7} {'slice regressed':>16}")
    for label, noise in (
        ("equal (independent noise)", 1.0),
        (f"better (noise ×{args.better}, AUC +{gain:.3f})", args.better),
    ):
        tally = decisions(args.pairs, args.pair_rows, noise, args.confidence, args.seed)
        for metric, counts in tally.items():
            shown = [f"{counts[c] / args.pairs:.1%}" for c in columns]
            print(f"{metric:<10} {label:<34} {shown[0]:>8} {shown[1]:>6} {shown[2]:>7} {shown[3]:>16}")
    print(
        f"(false promotions: the 'equal' rows' promote column, target ≤ {1 - args.confidence:.0%}; "
        f"{time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
