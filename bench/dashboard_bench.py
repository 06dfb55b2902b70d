"""Dashboard benchmark: server time of the model page of a model with 2,000 windows × 50 columns.

    .venv/bin/python bench/dashboard_bench.py                      # PostgreSQL ($MLWARDEN_BENCH_POSTGRES_URL)
    .venv/bin/python bench/dashboard_bench.py --backend sqlite --windows 2000 --columns 50

Fills a fresh store (the PostgreSQL database's public schema is dropped first: give it a database of its
own) with one model: ``--windows`` evaluated hourly windows, each with drift scores and thresholds for
``--columns`` columns, estimated and realized performance with bands, three data-quality findings, an alert
every tenth window. Then requests each page in-process (no network: server time only) and prints the median
and the slowest of ``--repeat`` requests. The model page shows one page of windows (a week of hours).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import sqlalchemy as sa

POSTGRES = os.environ.get(
    "MLWARDEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/mlwarden_bench"
)
BUDGET_MS = 300.0


def fresh_postgres(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def fill(store, windows: int, columns: int, seed: int = 0) -> tuple[str, str]:
    """One model of team bench with ``windows`` evaluated windows; a read token and the model's name."""
    from mlwarden.registry import create_token
    from mlwarden.store.schema import Alert, Model, ModelVersion, StoredFinding, Team, Window

    rng = np.random.default_rng(seed)
    token = create_token(store, team="bench", name="reader", scopes=["read"])
    names = [f"feature_{i:02d}" for i in range(columns)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with store.session() as session:
        team = session.scalar(sa.select(Team).where(Team.name == "bench"))
        model = Model(name="bench-model", team_id=team.id, owner_name="Ada", slos={"roc_auc": 0.8})
        session.add(model)
        session.flush()
        session.add_all(ModelVersion(model_id=model.id, version=f"v{i}", stage="shadow") for i in range(3))
        scores = rng.gamma(2.0, 0.02, size=(windows, columns))
        window_rows, finding_rows, alert_rows = [], [], []
        for w in range(windows):
            at = start + timedelta(hours=w)
            auc = float(0.85 - 0.1 * (w % 200 > 180) + rng.normal(0, 0.01))
            drift = dict(zip(names, scores[w].round(5).tolist(), strict=True))
            summary = {
                "rows": 3000,
                "evaluated": True,
                "drift": drift,
                "drift_thresholds": dict.fromkeys(names, 0.1),
                "drifted_columns": [n for n, s in drift.items() if s >= 0.1],
                "performance": {
                    "estimated": {
                        "roc_auc": auc,
                        "roc_auc_lower": auc - 0.02,
                        "roc_auc_upper": auc + 0.02,
                        "n": 3000,
                    },
                    "realized": {"roc_auc": auc - 0.01, "n": 3000},
                },
                "labelled": 3000,
            }
            window_rows.append(
                {
                    "model_id": model.id,
                    "start": at,
                    "end": at + timedelta(hours=1),
                    "status": "evaluated",
                    "evaluated_upto": 0,
                    "labels_arrived": False,
                    "evaluated_at": at + timedelta(hours=1, seconds=5),
                    "summary": summary,
                }
            )
            for check in ("quality.missing_rate", "quality.out_of_range", "output.class_balance"):
                finding_rows.append(
                    {
                        "model_id": model.id,
                        "window_start": at,
                        "window_end": at + timedelta(hours=1),
                        "check": check,
                        "severity": "warning",
                        "column": names[w % columns],
                        "message": f"{check} on {names[w % columns]}",
                        "evidence": {},
                        "created_at": at,
                    }
                )
            if w % 10 == 0:
                alert_rows.append(
                    {
                        "model_id": model.id,
                        "check": "drift",
                        "column": names[w % columns],
                        "severity": "warning",
                        "status": "resolved" if w < windows - 50 else "open",
                        "message": "drift",
                        "occurrences": 3,
                        "first_seen": at,
                        "last_seen": at + timedelta(hours=3),
                        "resolved_at": at + timedelta(hours=4) if w < windows - 50 else None,
                    }
                )
        session.execute(sa.insert(Window), window_rows)
        session.execute(sa.insert(StoredFinding), finding_rows)
        session.execute(sa.insert(Alert), alert_rows)
        name = model.name
    return token, name


def timed(client, url: str, repeat: int) -> tuple[float, float, int]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return statistics.median(times), max(times), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from mlwarden.server import create_app
    from mlwarden.server.dashboard import auth
    from mlwarden.store import Store

    with tempfile.TemporaryDirectory() as folder:
        url = fresh_postgres(POSTGRES) if args.backend == "postgresql" else str(Path(folder) / "bench.db")
        store = Store(url)
        began = time.perf_counter()
        token, name = fill(store, args.windows, args.columns)
        print(
            f"filled {args.windows:,} windows × {args.columns} columns in {time.perf_counter() - began:.1f} s"
        )
        app = create_app(store, evaluate_every=None)
        if not any(
            getattr(r, "path", None) == "/login" for r in app.routes
        ):  # TEMP until app.py registers it
            from mlwarden.server.dashboard import router

            app.include_router(router)
        with TestClient(app) as client:
            page = client.get("/login").text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"token": token, "csrf": csrf}, follow_redirects=False)
            assert auth.SESSION_COOKIE in client.cookies
            model = f"/models/{quote(name)}"
            pages = [
                ("fleet", "/"),
                ("model page 1 (latest week)", model),
                ("model page 6", f"{model}?page=6"),
                ("alerts inbox (all)", "/alerts?status=all"),
                ("audit log", "/audit"),
            ]
            client.get(model)  # warm: templates compiled, connections open
            print(
                f"\n{args.backend}: server time per page, {args.repeat} requests each "
                f"(budget {BUDGET_MS:.0f} ms)"
            )
            print(f"{'page':<28} {'median ms':>10} {'max ms':>8} {'KB':>7}")
            for label, path in pages:
                median, worst, size = timed(client, path, args.repeat)
                print(f"{label:<28} {median:>10.1f} {worst:>8.1f} {size / 1024:>7.0f}")
        store.dispose()


if __name__ == "__main__":
    main()
