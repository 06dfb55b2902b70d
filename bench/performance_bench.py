"""Performance-estimation benchmark: CBPE and DLE estimates vs realized metrics, NannyML's CBPE beside ours.

    .venv/bin/python bench/performance_bench.py                    # 10 windows of 5,000 rows
    .venv/bin/python bench/performance_bench.py --windows 20 --rows 2000 --no-peers

Three cases, each with a labelled reference (the estimator's fit set) and production windows whose labels
are hidden from the estimator and used only to compute the realized metric:

- covariate shift (classification): x ~ N(mu, Sigma), y ~ Bernoulli(sigmoid(w·x + b)) with the same w, b in
  every window; window by window mu moves towards the decision boundary and the spread along w narrows, so
  more rows sit where the model is unsure: accuracy and ROC AUC fall while the scores stay calibrated.
  CBPE should track the realized metrics (target: mean absolute error ≤ 0.02).
- concept shift (classification): x keeps the reference distribution, but the sign of w's largest weight
  flips progressively, so P(y | x) changes. The scores no longer mean what they meant on the reference:
  no label-free method can see this, and the estimate diverges from the realized metric.
- multiclass (CBPE through ``assess_performance``): three classes given as a score map in the model's order
  (not sorted), one of them rare; the inputs drift towards the class boundaries. Estimated and realized
  accuracy, macro F1 and macro ROC AUC share one definition, so ``estimate_mismatch`` should stay silent.
- regression (DLE): heteroscedastic noise and a term the linear model misses; the inputs shift towards the
  noisy region, so the realized MAE rises.

NannyML 0.13.1's CBPE runs on the same parquet files in its own virtual environment (``.venv-peers``) when
installed, through ``bench/peers_cbpe.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlwarden.performance import CBPE, DLE, assess_performance, estimate_mismatch
from mlwarden.performance.findings import HIGHER_IS_BETTER
from mlwarden.performance.realized import classification_metrics, regression_metrics
from mlwarden.schema import ColumnMapping

ROOT = Path(__file__).resolve().parent.parent
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
FEATURES = [f"x{i}" for i in range(6)]
WEIGHTS = np.array([1.5, -1.0, 0.8, 0.5, 0.0, 0.0])  # x4, x5: features the outcome ignores
BIAS = -0.5
MU0 = np.array([1.0, -0.5, 0.5, 0.3, 0.0, 0.0])  # reference mean: logit mean w·mu0 + b = 2.05
TARGET_MAE = 0.02
METRICS = ("roc_auc", "accuracy")


@dataclass
class Case:
    """One scenario: reference and per-window frames with columns x*, y, score, y_pred."""

    name: str
    reference: pd.DataFrame
    windows: list[pd.DataFrame]
    shift: list[float]
    results: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def features(rng: np.random.Generator, rows: int, t: float) -> np.ndarray:
    """x at shift ``t`` ∈ [0, 1]: the mean moves 80 % of the way to the boundary along w, and the spread along
    w shrinks to 40 % of the reference's (t = 0 is the reference distribution)."""
    direction = WEIGHTS / np.linalg.norm(WEIGHTS)
    mu = MU0 - t * 0.8 * (WEIGHTS @ MU0 + BIAS) * WEIGHTS / (WEIGHTS @ WEIGHTS)
    z = rng.normal(size=(rows, len(FEATURES)))
    z += (-0.6 * t) * np.outer(z @ direction, direction)
    return mu + z


def labels(rng: np.random.Generator, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    p = 1.0 / (1.0 + np.exp(-(x @ weights + BIAS)))
    return (rng.random(x.shape[0]) < p).astype(int)


def frame(x: np.ndarray, y: np.ndarray, model: LogisticRegression) -> pd.DataFrame:
    out = pd.DataFrame(x, columns=FEATURES)
    out["score"] = model.predict_proba(x)[:, 1]
    out["y_pred"] = (out["score"] >= 0.5).astype(int)
    out["y"] = y
    return out


def classification_cases(args: argparse.Namespace) -> list[Case]:
    """The covariate-shift and concept-shift cases, sharing the model and the reference."""
    rng = np.random.default_rng(args.seed)
    x_train = features(rng, args.train, 0.0)
    model = LogisticRegression().fit(x_train, labels(rng, x_train, WEIGHTS))
    x_ref = features(rng, args.reference, 0.0)
    reference = frame(x_ref, labels(rng, x_ref, WEIGHTS), model)
    shifts = np.linspace(0.0, 1.0, args.windows).tolist()
    covariate, concept = [], []
    for t in shifts:
        x = features(rng, args.rows, t)
        covariate.append(frame(x, labels(rng, x, WEIGHTS), model))
        flipped = WEIGHTS.copy()
        flipped[0] *= 1.0 - 2.0 * t  # +1.5 in the first window, -1.5 in the last
        x = features(rng, args.rows, 0.0)
        concept.append(frame(x, labels(rng, x, flipped), model))
    return [
        Case("covariate shift", reference, covariate, shifts),
        Case("concept shift", reference, concept, shifts),
    ]


def run_ours(case: Case) -> None:
    """Our CBPE fitted on the reference; estimated and realized metrics per window."""
    ref = case.reference
    start = time.perf_counter()
    cbpe = CBPE().fit(ref["y"].to_numpy(), ref["score"].to_numpy(), ref["y_pred"].to_numpy())
    case.timings["fit"] = time.perf_counter() - start
    res: dict[str, list[float]] = {"mismatch": []}
    elapsed = 0.0
    for window in case.windows:
        start = time.perf_counter()
        est = cbpe.estimate(window["score"].to_numpy(), window["y_pred"].to_numpy())
        elapsed += time.perf_counter() - start
        real = classification_metrics(
            window["y"].to_numpy(), window["y_pred"].to_numpy(), window["score"].to_numpy(), positive=1
        )
        for metric in METRICS:
            for suffix, source in (("", est), ("_lower", est), ("_upper", est)):
                res.setdefault(f"est_{metric}{suffix}", []).append(source[f"{metric}{suffix}"])
            res.setdefault(f"real_{metric}", []).append(real[metric])
        res["mismatch"].append(float(len(estimate_mismatch(est, real))))
    case.timings["estimate"] = elapsed
    case.results["ours"] = res


def run_peer(case: Case, folder: Path) -> None:
    """NannyML's CBPE on the same reference and windows (one chunk per window), in the peers' venv."""
    slug = case.name.replace(" ", "_")
    ref_path, ana_path = folder / f"{slug}-reference.parquet", folder / f"{slug}-analysis.parquet"
    case.reference.to_parquet(ref_path)
    pd.concat(case.windows, ignore_index=True).to_parquet(ana_path)
    command = [str(PEERS_PYTHON), "peers_cbpe.py", str(ref_path), str(ana_path), str(len(case.windows[0]))]
    env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"}
    out = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent, env=env)
    if out.returncode != 0:
        case.results["nannyml"] = {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
        return
    result = json.loads(out.stdout.strip().splitlines()[-1])
    case.timings["nannyml"] = result.pop("wall")
    case.results["nannyml"] = result


def mae(estimate: list[float | None], realized: list[float | None]) -> float:
    pairs = [(e, r) for e, r in zip(estimate, realized, strict=True) if e is not None and r is not None]
    return float(np.mean([abs(e - r) for e, r in pairs])) if pairs else float("nan")


def report_classification(case: Case) -> dict[str, float]:
    ours, peer = case.results["ours"], case.results.get("nannyml")
    has_peer = peer is not None and "error" not in peer
    print(
        f"\n== {case.name}: CBPE, reference {len(case.reference):,} rows, windows of {len(case.windows[0]):,}"
    )
    head = f"{'win':>3} {'shift':>5} │"
    for metric in METRICS:
        label = "AUC" if metric == "roc_auc" else "acc"
        head += (
            f" {'real ' + label:>9} {'ours':>6} {'95% band':>13}"
            + (f" {'nannyml':>7}" if has_peer else "")
            + " │"
        )
    print(head + " mismatch")
    for i, t in enumerate(case.shift):
        row = f"{i:>3} {t:>5.2f} │"
        for metric in METRICS:
            band = f"[{ours[f'est_{metric}_lower'][i]:.3f},{ours[f'est_{metric}_upper'][i]:.3f}]"
            row += f" {ours[f'real_{metric}'][i]:>9.3f} {ours[f'est_{metric}'][i]:>6.3f} {band:>13}"
            if has_peer:
                row += f" {peer[metric][i]:>7.3f}"
            row += " │"
        print(row + f" {ours['mismatch'][i]:>6.0f}/{len(HIGHER_IS_BETTER)}")
    errors: dict[str, float] = {}
    for metric in METRICS:
        errors[f"ours_{metric}"] = mae(ours[f"est_{metric}"], ours[f"real_{metric}"])
        if has_peer:
            errors[f"nannyml_{metric}"] = mae(peer[metric], ours[f"real_{metric}"])
        inside = np.mean(
            [
                lo <= r <= hi
                for lo, r, hi in zip(
                    ours[f"est_{metric}_lower"],
                    ours[f"real_{metric}"],
                    ours[f"est_{metric}_upper"],
                    strict=True,
                )
            ]
        )
        errors[f"coverage_{metric}"] = float(inside)
    print(
        "MAE of the estimate over windows"
        + (
            " (concept shift: not estimable without labels)"
            if case.name == "concept shift"
            else f" (target ≤ {TARGET_MAE})"
        )
        + ":"
    )
    for m in METRICS:
        line = f"  {m:<8} ours {errors[f'ours_{m}']:.4f}"
        line += f", nannyml {errors[f'nannyml_{m}']:.4f}" if has_peer else ""
        line += f"; realized inside our 95 % band in {errors[f'coverage_{m}']:.0%} of windows"
        print(line)
    flagged = int(sum(1 for m in ours["mismatch"] if m))
    mismatch = (
        f"estimate_mismatch (realized outside the band ± 0.02 on any of {len(HIGHER_IS_BETTER)} metrics) "
        f"flags {flagged}/{len(case.windows)} windows"
    )
    if case.name == "concept shift":
        worst = max(errors[f"ours_{m}"] for m in METRICS)
        print(f"concept shift: not estimable without labels; MAE {worst:.3f}: the estimate stays at the")
        print(f"  reference's level while realized performance falls; {mismatch} once labels arrive")
    else:
        verdict = all(errors[f"ours_{m}"] <= TARGET_MAE for m in METRICS)
        print(f"  target MAE ≤ {TARGET_MAE}: {'met' if verdict else 'MISSED'}; {mismatch} (false alarms)")
    per_window = case.timings["estimate"] / len(case.windows) * 1e3
    timing = f"timings: our fit {case.timings['fit'] * 1e3:.0f} ms, estimates {per_window:.0f} ms/window"
    timing += " (of which most is the 200-draw bootstrap band)"
    if has_peer:
        timing += f"; nannyml fit + all estimates {case.timings['nannyml']:.2f} s"
    elif peer is not None:
        timing += f"; nannyml failed: {peer['error']}"
    print(timing)
    return errors


def regression_case(args: argparse.Namespace) -> None:
    """DLE on a linear model whose absolute error grows where the inputs shift to."""
    rng = np.random.default_rng(args.seed + 1)
    columns = ["r0", "r1", "r2", "r3"]

    def draw(rows: int, t: float) -> tuple[pd.DataFrame, np.ndarray]:
        x = rng.normal(size=(rows, 4)) + np.array([1.5 * t, 0.0, 1.0 * t, 0.0])
        noise = rng.normal(size=rows) * (0.3 + 0.5 * np.abs(x[:, 0]))
        y = 2.0 * x[:, 0] - x[:, 1] + 0.5 * x[:, 2] ** 2 + 0.3 * x[:, 3] + noise
        return pd.DataFrame(x, columns=columns), y

    x_train, y_train = draw(args.train, 0.0)
    model = LinearRegression().fit(x_train, y_train)
    x_ref, y_ref = draw(args.reference, 0.0)
    start = time.perf_counter()
    dle = DLE(seed=args.seed).fit(x_ref, y_ref, model.predict(x_ref))
    fit = time.perf_counter() - start
    print(f"\n== regression: DLE, reference {args.reference:,} rows, windows of {args.rows:,}")
    print(f"{'win':>3} {'shift':>5} │ {'real MAE':>8} {'est MAE':>8} │ {'real RMSE':>9} {'est RMSE':>8}")
    est_mae, real_mae, est_rmse, real_rmse, elapsed = [], [], [], [], 0.0
    for i, t in enumerate(np.linspace(0.0, 1.0, args.windows)):
        x, y = draw(args.rows, float(t))
        pred = model.predict(x)
        start = time.perf_counter()
        est = dle.estimate(x, pred)
        elapsed += time.perf_counter() - start
        real = regression_metrics(y, pred)
        est_mae.append(est["mae"])
        real_mae.append(real["mae"])
        est_rmse.append(est["rmse"])
        real_rmse.append(real["rmse"])
        print(
            f"{i:>3} {t:>5.2f} │ {real['mae']:>8.3f} {est['mae']:>8.3f} │ "
            f"{real['rmse']:>9.3f} {est['rmse']:>8.3f}"
        )
    rel = np.mean(np.abs(np.array(est_mae) - real_mae) / np.array(real_mae))
    print(
        f"MAE of the estimate over windows: "
        f"MAE {mae(est_mae, real_mae):.4f} ({rel:.1%} of the realized MAE), "
        f"RMSE {mae(est_rmse, real_rmse):.4f}"
    )
    print(f"timings: DLE fit {fit:.2f} s, estimates {elapsed:.2f} s")


def multiclass_case(args: argparse.Namespace) -> None:
    """Three classes, one rare, scores given as a map in the model's (unsorted) order; covariate shift."""
    rng = np.random.default_rng(args.seed + 2)
    land = ["water", "desert", "clouds"]  # the model's order; "clouds" is rare
    weights = np.array([[1.5, -1.0, 0.3], [-0.5, 1.2, 0.4], [0.2, 0.3, 1.0], [0.0, 0.0, 0.0]])
    bias = np.array([0.5, 0.3, -1.8])

    def draw(rows: int, t: float) -> pd.DataFrame:
        x = rng.normal(size=(rows, 4)) * (1.0 - 0.5 * t) + np.array([-0.8, -0.8, 0.6, 0.0]) * t
        logits = x @ weights + bias
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        y = (rng.random(rows)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
        frame = pd.DataFrame(x, columns=["m0", "m1", "m2", "m3"])
        frame["land"] = np.asarray(land, dtype=object)[y]
        return frame

    def scored(frame: pd.DataFrame) -> pd.DataFrame:
        proba = model.predict_proba(frame[["m0", "m1", "m2", "m3"]])
        for j, label in enumerate(model.classes_):
            frame[f"p_{label}"] = proba[:, j]
        frame["pred"] = model.classes_[proba.argmax(axis=1)]
        return frame

    train = draw(args.train, 0.0)
    model = LogisticRegression().fit(train[["m0", "m1", "m2", "m3"]], train["land"])
    reference = scored(draw(args.reference, 0.0))
    mapping = ColumnMapping(target="land", prediction="pred", scores={c: f"p_{c}" for c in land})
    metrics = ("accuracy", "f1", "roc_auc")
    print(f"\n== multiclass: CBPE via assess_performance, classes {land} (score map in the model's order)")
    print(f"   reference {args.reference:,} rows ({np.mean(reference['land'] == 'clouds'):.0%} clouds)")
    head = f"{'win':>3} {'shift':>5} │" + "".join(f" {'real ' + m:>12} {'est':>6} │" for m in metrics)
    print(head + " mismatch")
    errors: dict[str, list[float]] = {m: [] for m in metrics}
    flagged, elapsed = 0, 0.0
    for i, t in enumerate(np.linspace(0.0, 1.0, args.windows)):
        window = scored(draw(args.rows, float(t)))
        start = time.perf_counter()
        performance, findings, _ = assess_performance(reference, window, mapping)
        elapsed += time.perf_counter() - start
        est, real = performance["estimated"], performance["realized"]
        row = f"{i:>3} {t:>5.2f} │"
        for m in metrics:
            row += f" {real[m]:>12.3f} {est[m]:>6.3f} │"
            errors[m].append(abs(est[m] - real[m]))
        mismatch = sum(f.check == "performance.estimate_mismatch" for f in findings)
        flagged += mismatch > 0
        print(row + f" {mismatch:>6}/{len(HIGHER_IS_BETTER)}")
    summary = ", ".join(f"{m} {np.mean(errors[m]):.4f}" for m in metrics)
    print(f"MAE of the estimate over windows: {summary} (target ≤ {TARGET_MAE})")
    print(f"estimate_mismatch flags {flagged}/{args.windows} windows (false alarms: no concept shift here)")
    per_window = elapsed / args.windows
    print(f"timings: assess_performance (CBPE fit + estimate + realized) {per_window:.2f} s/window")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=10, help="production windows (default 10)")
    parser.add_argument("--rows", type=int, default=5_000, help="rows per window (default 5,000)")
    parser.add_argument(
        "--reference", type=int, default=20_000, help="labelled reference rows (default 20,000)"
    )
    parser.add_argument("--train", type=int, default=20_000, help="training rows (default 20,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-peers", action="store_true", help="skip NannyML even if installed")
    args = parser.parse_args()
    peers = not args.no_peers and PEERS_PYTHON.exists()
    if not peers and not args.no_peers:
        print(
            f"NannyML not installed ({PEERS_PYTHON} missing): install it as README.md's Benchmarks section "
            "says; running without it"
        )
    started = time.perf_counter()
    cases = classification_cases(args)
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            run_ours(case)
            if peers:
                run_peer(case, Path(tmp))
            report_classification(case)
    multiclass_case(args)
    regression_case(args)
    print(f"\ntotal wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
