"""Segments benchmark: what per-segment monitoring costs, and that it adds no false alarms.

    .venv/bin/python bench/segments_bench.py                 # about a minute and a half on 2 idle cores
    .venv/bin/python bench/segments_bench.py --batches 100 --rows 1000000 --seeds 5
    .venv/bin/python bench/segments_bench.py --parts 3 --seeds 20 --alarm-rows 40000   # false alarms only

Prints three tables:

1. ingestion: 1,000-row Arrow batches (20 numeric features, a prediction, a score) posted to the service
   in-process (FastAPI TestClient, SQLite file store), to a model without segments and to one with two
   segment columns of 10 values each — batches alternate between the two models, so machine load hits both
   alike. Target: with segments >= 70 % of the rows/s without.
2. ``compare`` of 1M reference rows with 1M current rows (10 numeric features, a 10-value segment column),
   without and with ``segments=["segment"]``, wall and CPU time. Target: under 3x the time without.
3. false alarms on data without any change: 20 numeric columns and a calibrated binary model (label, score,
   prediction), the aggregate alone vs 20 segments x 20 columns, over several seeds: drifted columns (one
   Benjamini-Hochberg correction over the aggregate and every segment) and performance findings (estimated
   and realized; segments: one Holm correction over every segment x metric) per run.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc

import mlwarden as mw
from mlwarden.drift import DriftResult

FEATURES = 20
ARROW = {"Content-Type": "application/vnd.apache.arrow.stream"}


def batch(rows: int, rng: np.random.Generator, offset: int) -> pd.DataFrame:
    data = {f"f{i}": rng.normal(size=rows) for i in range(FEATURES)}
    data["a"] = rng.choice([f"a{i}" for i in range(10)], rows)
    data["b"] = rng.choice([f"b{i}" for i in range(10)], rows)
    score = rng.random(rows)
    data |= {"prediction": (score > 0.5).astype(int), "score": score}
    data["id"] = [f"p{offset + i}" for i in range(rows)]
    data["timestamp"] = pd.Timestamp.now(tz="UTC")
    return pd.DataFrame(data)


def arrow_body(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    with pyarrow.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def ingestion(batches: int, rows: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from mlwarden.registry import create_token
    from mlwarden.server import create_app
    from mlwarden.store import Store

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with TestClient(create_app(store, evaluate_every=None)) as client:
            token = create_token(store, team="bench", name="bench", scopes=["admin"])
            client.headers["Authorization"] = f"Bearer {token}"
            reference = batch(20_000, rng, 0).drop(columns=["id", "timestamp"])
            buffer = io.BytesIO()
            reference.to_parquet(buffer)
            models = {"plain": {}, "segments": {"segments": ["a", "b"]}}
            for name, columns in models.items():
                client.post("/v1/models", json={"name": name, "columns": columns}).raise_for_status()
                client.post(
                    f"/v1/models/{name}/reference",
                    content=buffer.getvalue(),
                    headers={"Content-Type": "application/vnd.apache.parquet"},
                ).raise_for_status()
            bodies = [arrow_body(batch(rows, rng, (i + 1) * rows)) for i in range(batches)]
            spent = dict.fromkeys(models, 0.0)
            for i, body in enumerate(bodies):
                for name in models if i % 2 else reversed(list(models)):  # alternate who goes first
                    start = time.perf_counter()
                    response = client.post(
                        f"/v1/models/{name}/batches?batch_id=b{i}", content=body, headers=ARROW
                    )
                    response.raise_for_status()
                    if i >= 3:  # warm-up batches are not timed
                        spent[name] += time.perf_counter() - start
        store.dispose()
    return {name: (batches - 3) * rows / seconds for name, seconds in spent.items()}


def comparison(rows: int, repeats: int) -> dict[str, dict[str, float]]:
    """Best wall and CPU seconds (this process, all threads) of ``compare`` without and with a segment
    column, runs alternating so that machine load hits both alike."""
    rng = np.random.default_rng(1)

    def frame() -> pd.DataFrame:
        df = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(10)})
        df["segment"] = rng.choice([f"s{i}" for i in range(10)], rows)
        return df

    reference, current = frame(), frame()
    mw.compare(reference.iloc[:1000], current.iloc[:1000], segments=["segment"])  # imports, caches
    out = {label: {"wall": np.inf, "cpu": np.inf} for label in ("without", "with")}
    for _ in range(repeats):
        for label, segments in (("without", None), ("with", ["segment"])):
            wall, cpu = time.perf_counter(), time.process_time()
            mw.compare(reference, current, segments=segments)
            out[label]["wall"] = min(out[label]["wall"], time.perf_counter() - wall)
            out[label]["cpu"] = min(out[label]["cpu"], time.process_time() - cpu)
    return out


def false_alarms(seeds: int, rows: int) -> list[dict[str, int]]:
    """Per seed, on data without any change: drifted columns and performance findings (warnings or worse) of
    the aggregate alone, and of the aggregate and the 20 segments when split."""
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng(100 + seed)
        reference, current = (_null_frame(rng, rows) for _ in range(2))
        outputs = {"target": "y", "prediction": "pred", "score": "score"}
        alone = mw.compare(reference.drop(columns="seg"), current.drop(columns="seg"), **outputs)
        split = mw.compare(reference, current, segments=["seg"], **outputs)
        in_segments = [s for s in split.segments if s.drift is not None]
        out.append(
            {
                "drift_alone": len(alone.drift.drifted_features),
                "drift_joint": len(split.drift.drifted_features),
                "drift_segments": sum(len(s.drift.drifted_features) for s in in_segments),
                "drift_tests_alone": _tested(alone.drift),
                "drift_tests_joint": _tested(split.drift) + sum(_tested(s.drift) for s in in_segments),
                "perf_alone": len(_performance_alarms(alone.findings)),
                "perf_segments": sum(len(_performance_alarms(s.findings)) for s in in_segments),
                "perf_tests_segments": sum(_performance_comparisons(s.performance) for s in in_segments),
                "perf_tests_alone": _performance_comparisons(alone.performance),
            }
        )
    return out


def _tested(drift: DriftResult) -> int:
    return sum(c.score is not None for c in drift.columns)


def _performance_alarms(findings: list) -> list:
    return [f for f in findings if f.check.startswith("performance") and f.severity != "info"]


def _performance_comparisons(performance: dict) -> int:
    """Metrics compared with the reference (estimated and realized)."""
    names = ("roc_auc", "accuracy", "precision", "recall", "f1")
    return sum(performance[kind].get(name) is not None for kind in performance for name in names)


def _null_frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """20 numeric columns, a 20-value segment column and a calibrated binary model (label ``y``, score,
    prediction at 0.5) whose inputs are the first three columns: nothing differs between two draws."""
    df = pd.DataFrame({f"c{i}": rng.normal(size=rows) for i in range(20)})
    df["seg"] = rng.choice([f"s{i:02d}" for i in range(20)], rows)
    score = 1 / (1 + np.exp(-(df["c0"] + 0.8 * df["c1"] - 0.5 * df["c2"]).to_numpy()))
    df["y"] = (rng.random(rows) < score).astype(int)
    df["score"] = score
    df["pred"] = (score > 0.5).astype(int)
    return df


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-rows", type=int, default=1_000)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per side of the compare timing")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each compare timing (the best)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--alarm-rows", type=int, default=100_000, help="rows per side, false-alarm runs")
    parser.add_argument(
        "--parts", default="1,2,3", help="which tables to print (1 ingestion, 2 compare, 3 false alarms)"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "1" in parts:
        print_ingestion(args)
    if "2" in parts:
        print_comparison(args)
    if "3" in parts:
        print_false_alarms(args)


def print_ingestion(args: argparse.Namespace) -> None:
    rates = ingestion(args.batches, args.batch_rows)
    print(
        f"\n1. ingestion: {args.batches - 3} timed batches of {args.batch_rows:,} rows x {FEATURES} features "
        "(in-process, SQLite file)"
    )
    print(f"{'model':<32} {'rows/s':>10} {'share':>7}")
    print(f"{'no segments':<32} {rates['plain']:>10,.0f} {1:>7.0%}")
    print(
        f"{'segments a, b (10 values each)':<32} {rates['segments']:>10,.0f} "
        f"{rates['segments'] / rates['plain']:>7.0%}   (target >= 70 %)"
    )


def print_comparison(args: argparse.Namespace) -> None:
    times = comparison(args.rows, args.repeats)
    print(
        f"\n2. compare, {args.rows:,} + {args.rows:,} rows, 10 numeric features (best of {args.repeats}; CPU "
        "time is steadier than wall time on a loaded machine)"
    )
    print(f"{'segments':<22} {'wall s':>8} {'ratio':>6} {'CPU s':>8} {'ratio':>6}")
    for label, name in (("without", "none"), ("with", "segment (10 values)")):
        wall, cpu = times[label]["wall"], times[label]["cpu"]
        print(
            f"{name:<22} {wall:>8.2f} {wall / times['without']['wall']:>6.2f} {cpu:>8.2f} "
            f"{cpu / times['without']['cpu']:>6.2f}" + ("   (target < 3)" if label == "with" else "")
        )


def print_false_alarms(args: argparse.Namespace) -> None:
    runs = false_alarms(args.seeds, args.alarm_rows)
    print(
        f"\n3. false alarms without any change, {args.alarm_rows:,} rows per side, 20 columns and a "
        f"calibrated binary model, {args.seeds} seeds"
    )
    print(
        f"{'seed':<6} {'drift: alone':>13} {'joint':>6} {'20 segments':>12}   "
        f"{'performance: alone':>19} {'20 segments':>12}"
    )
    for seed, run in enumerate(runs):
        print(
            f"{seed:<6} {run['drift_alone']:>13} {run['drift_joint']:>6} {run['drift_segments']:>12}   "
            f"{run['perf_alone']:>19} {run['perf_segments']:>12}"
        )
    n = len(runs)
    total = {key: sum(r[key] for r in runs) for key in runs[0]}
    print(
        f"drifted columns per run: aggregate alone {total['drift_alone'] / n:.2f} (of "
        f"{total['drift_tests_alone'] / n:.0f} columns tested); with segments "
        f"{(total['drift_joint'] + total['drift_segments']) / n:.2f} "
        f"(of {total['drift_tests_joint'] / n:.0f})"
    )
    print(
        f"performance findings per run: aggregate alone {total['perf_alone'] / n:.2f} (of "
        f"{total['perf_tests_alone'] / n:.0f} comparisons); 20 segments {total['perf_segments'] / n:.2f} "
        f"(of {total['perf_tests_segments'] / n:.0f})"
    )
    any_alone, any_segments = (sum(r[key] > 0 for r in runs) for key in ("perf_alone", "perf_segments"))
    print(
        f"runs with any performance finding: aggregate alone {any_alone}/{n}, 20 segments {any_segments}/{n}"
    )


if __name__ == "__main__":
    main()
