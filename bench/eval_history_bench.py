"""Window evaluation against label history: one 5,000-row window evaluated after 10, 100 and 1,000 windows
of labelled history, on SQLite and PostgreSQL (issue 15: the cost must stay flat as history grows).

    .venv/bin/python bench/eval_history_bench.py                      # both backends, ~2–3 min
    .venv/bin/python bench/eval_history_bench.py --backend postgresql --history-rows 5000

The measured window is ingested through a real server (predictions and their labels, 5,000 rows); the
history — earlier hourly windows with ``--history-rows`` predictions each, every one labelled — is written
by the database itself (``generate_series`` / a recursive CTE), which is what makes 1,000 windows fit in
the time. Before each measurement planner statistics are refreshed as the scheduler does
(:func:`mlwarden.store.statistics.refresh_statistics`). Prints, per backend and history size, the label
join (the window's predictions with their latest labels) as the client sees it and, on PostgreSQL, as the
database executes it (``EXPLAIN ANALYZE``), and the whole ``evaluate_window`` (join, profile merge, every
check, storing findings and alerts): the minimum and median of ``--repeats`` runs, in ms — its wall time,
and its CPU time: this thread's (SQLite runs in it) plus, on PostgreSQL, the database's backend processes'
(``/proc/<pid>/schedstat``; NaN when the server runs elsewhere), which is what the wall time would be on
an idle machine. On a busy machine the wall-clock figures include waiting for a CPU; the SQL execution time
is the history-dependent part. The reference's prepared fit (:mod:`mlwarden.server.prepared`) is warm after
the first run, as for every window after a model's first.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Select

from mlwarden.registry import create_token
from mlwarden.registry.columns import model_mapping
from mlwarden.server.background import BackgroundServer
from mlwarden.server.windows import evaluate_window, outputs_between, outputs_query
from mlwarden.store import Store
from mlwarden.store.schema import Model, Window
from mlwarden.store.statistics import refresh_statistics

POSTGRES = os.environ.get(
    "MLWARDEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mlwarden_bench"
)
WINDOW_ROWS = 5_000
HISTORY_STEPS = (10, 100, 1_000)

HISTORY_SQL = {
    "postgresql": [
        """INSERT INTO predictions (model_id, batch_pk, prediction_id, ts, prediction, score)
           SELECT :model, 0, 'h' || w || '-' || i,
                  CAST(:start AS timestamptz) - (w + 1) * interval '1 hour' + i * interval '100 ms',
                  (i % 2)::text, random()
           FROM generate_series(:first, :last - 1) AS w, generate_series(0, :rows - 1) AS i""",
        """INSERT INTO labels (model_id, batch_pk, prediction_id, label, ts)
           SELECT :model, 0, 'h' || w || '-' || i, ((i / 2) % 2)::text, now()
           FROM generate_series(:first, :last - 1) AS w, generate_series(0, :rows - 1) AS i""",
    ],
    "sqlite": [
        """WITH RECURSIVE w(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM w WHERE n + 1 < :last),
                          i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < :rows)
           INSERT INTO predictions (model_id, batch_pk, prediction_id, ts, prediction, score)
           SELECT :model, 0, 'h' || w.n || '-' || i.n,
                  strftime('%Y-%m-%d %H:%M:%S', :start, '-' || (w.n + 1) || ' hours',
                           '+' || (i.n / 10) || ' seconds') || '.000000',
                  CAST(i.n % 2 AS TEXT), abs(random() % 1000) / 1000.0
           FROM w, i""",
        """WITH RECURSIVE w(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM w WHERE n + 1 < :last),
                          i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n + 1 < :rows)
           INSERT INTO labels (model_id, batch_pk, prediction_id, label, ts)
           SELECT :model, 0, 'h' || w.n || '-' || i.n, CAST((i.n / 2) % 2 AS TEXT), :start FROM w, i""",
    ],
}


def reference(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    x = rng.normal(size=(rows, 3))
    score = 1 / (1 + np.exp(-(1.2 * x[:, 0] - 0.8 * x[:, 1])))
    return pd.DataFrame(
        {
            "x1": x[:, 0],
            "x2": x[:, 1],
            "x3": x[:, 2],
            "prediction": (score > 0.5).astype(int),
            "score": score,
            "label": rng.binomial(1, score),
        }
    )


def measured_window(store: Store, start: datetime) -> None:
    """Register the model, its reference, one 5,000-row window of predictions and their labels."""
    token = create_token(store, team="bench", name="admin", scopes=["admin"])
    rng = np.random.default_rng(0)
    with BackgroundServer(store, evaluate_every=None) as server:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            client.post("/v1/models", json={"name": "churn"}).raise_for_status()
            buffer = io.BytesIO()
            reference(20_000, rng).to_parquet(buffer)
            client.post(
                "/v1/models/churn/reference",
                content=buffer.getvalue(),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            ).raise_for_status()
            current = reference(WINDOW_ROWS, rng)
            records = [
                {
                    "id": f"w-{i}",
                    "timestamp": (start + timedelta(seconds=i * 0.5)).isoformat(),
                    "features": {"x1": r.x1, "x2": r.x2, "x3": r.x3},
                    "prediction": int(r.prediction),
                    "score": float(r.score),
                }
                for i, r in enumerate(current.itertuples())
            ]
            client.post(
                "/v1/models/churn/batches", json={"batch_id": "w", "records": records}
            ).raise_for_status()
            labels = [{"id": f"w-{i}", "label": int(y)} for i, y in enumerate(current["label"])]
            client.post(
                "/v1/models/churn/labels", json={"batch_id": "l", "labels": labels}
            ).raise_for_status()


def executor_ms(store: Store, window: Window, model_id: int) -> float:
    """The database's own time for the label join (``EXPLAIN ANALYZE``; SQLite: not reported)."""
    if store.backend != "postgresql":
        return float("nan")
    query = window_query(model_id, window).compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as connection:
        plan = connection.execute(sa.text(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}")).scalar_one()
    return plan[0]["Execution Time"]


def window_query(model_id: int, window: Window) -> Select:
    """A window's predictions with their labels: the evaluator's query for a model without shadow versions."""
    return outputs_query(model_id, window.start, window.end, served_only=False)


MinMedian = tuple[float, float]


def timed(function, repeats: int, store: Store | None = None) -> tuple[MinMedian, MinMedian]:
    """``((min, median) wall ms, (min, median) CPU ms)`` of ``repeats`` calls; CPU: this thread's and, with a
    PostgreSQL ``store``, its backends' (see :func:`backends_cpu_ns`)."""
    times, cpus = [], []
    for _ in range(repeats):
        pids = backend_pids(store)
        begin, cpu, server = time.perf_counter(), time.thread_time_ns(), backends_cpu_ns(pids)
        function()
        times.append((time.perf_counter() - begin) * 1000)
        cpus.append((time.thread_time_ns() - cpu + backends_cpu_ns(pids) - server) / 1e6)
    return (min(times), statistics.median(times)), (min(cpus), statistics.median(cpus))


def backend_pids(store: Store | None) -> list[int]:
    """The PostgreSQL backends serving the bench's database (the pool's connections), none for SQLite."""
    if store is None or store.backend != "postgresql":
        return []
    with store.engine.connect() as connection:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        return list(connection.execute(sa.text(query)).scalars())


def backends_cpu_ns(pids: list[int]) -> float:
    """The CPU time the processes ``pids`` have run, in ns (NaN when unreadable: a server elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return float("nan")
    return total


def run(backend: str, history_rows: int, repeats: int, workdir: Path) -> list[dict]:
    if backend == "postgresql":
        admin = sa.create_engine(POSTGRES.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = POSTGRES.rsplit("/", 1)[1]
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    store = Store(POSTGRES if backend == "postgresql" else str(workdir / "history.db"))
    now = datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    measured_window(store, start)
    with store.session() as session:
        model = session.scalar(sa.select(Model))
        window = session.scalar(sa.select(Window).where(Window.model_id == model.id))
    mapping = model_mapping(model)
    results, written = [], 0
    for windows in HISTORY_STEPS:
        begin = time.perf_counter()
        with store.engine.begin() as connection:
            for sql in HISTORY_SQL[backend]:
                params = {"model": model.id, "start": start.isoformat(), "first": written, "last": windows}
                if backend == "sqlite":
                    params["start"] = start.strftime("%Y-%m-%d %H:%M:%S")  # as SQLite stores UTC
                connection.execute(sa.text(sql), {**params, "rows": history_rows})
        load_s = time.perf_counter() - begin
        written = windows
        time.sleep(1.1)  # PostgreSQL publishes table change counts at most once a second
        analysed = refresh_statistics(store)

        def join() -> None:
            with store.session() as session:
                frame = outputs_between(session, model, mapping, window.start, window.end)
            assert len(frame) == WINDOW_ROWS and frame["label"].notna().all(), "the window lost labels"

        join_ms, _ = timed(join, repeats)
        executed = executor_ms(store, window, model.id)
        evaluate_ms, evaluate_cpu = timed(lambda: evaluate_window(store, model.id, window.id), repeats, store)
        results.append(
            {
                "backend": backend,
                "windows": windows,
                "history": windows * history_rows,
                "load_s": load_s,
                "analysed": ",".join(analysed) or "-",
                "join": join_ms,
                "executed": executed,
                "evaluate": evaluate_ms,
                "evaluate_cpu": evaluate_cpu,
            }
        )
        print(f"  done {backend} {windows} windows", file=sys.stderr)
    store.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--history-rows", type=int, default=2_000, help="labelled predictions per history window"
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            results += run(backend, args.history_rows, args.repeats, Path(tmp))
    print(
        f"\none {WINDOW_ROWS:,}-row labelled window; history: hourly windows of {args.history_rows:,} "
        f"labelled predictions; min / median of {args.repeats} runs"
    )
    print(
        f"{'backend':<11} {'history windows':>15} {'history rows':>13} {'label join ms':>14} "
        f"{'in SQL ms':>10} {'evaluate_window ms':>19} {'evaluate CPU ms':>16} {'analysed':>18}"
    )
    for r in results:
        join = f"{r['join'][0]:.0f} / {r['join'][1]:.0f}"
        evaluate = f"{r['evaluate'][0]:.0f} / {r['evaluate'][1]:.0f}"
        cpu = f"{r['evaluate_cpu'][0]:.0f} / {r['evaluate_cpu'][1]:.0f}"
        print(
            f"{r['backend']:<11} {r['windows']:>15,} {r['history']:>13,} {join:>14} {r['executed']:>10.0f} "
            f"{evaluate:>19} {cpu:>16} {r['analysed']:>18}"
        )
    print(f"load average while measuring (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("target (PostgreSQL): flat in history, <= 200 ms for a 5,000-row window")


if __name__ == "__main__":
    main()
