"""Window page benchmark: server time of the dashboard's window report, and where it goes.

    .venv/bin/python bench/window_page_bench.py --backend sqlite            # 120 windows of 5,000 rows
    .venv/bin/python bench/window_page_bench.py --windows 84 --rows 100000  # PostgreSQL, 200 batches each

Fills a fresh store through the API (PostgreSQL: ``$MLWARDEN_BENCH_POSTGRES_URL``, its public schema dropped
first): one model with hourly windows, a labelled 20,000-row reference, ``--windows`` past windows of
``--rows`` rows in ``--batch-rows``-row Arrow batches (one partial profile each; bench/load.py's windows hold
300–900), labels for half of every fifth batch, a 0.5 sd shift of f3 in every seventh window; then
evaluates them in-process. Times ``--repeat`` requests (in-process, no network) of the window page:

- first view, merged by the evaluation in this process: the newest windows;
- first view, read from the store (another replica, a restart): the oldest windows, whose evaluation's merge
  left the process's bounded cache (:data:`mlwarden.server.windows.MERGED_ITEMS`);
- repeat view: the newest windows again.

Each line gives the median and slowest request and the load average; ``--profile`` adds the shares of the
page's handler time by function (inclusive), sampled every 2 ms from the handler's thread with the stdlib.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
from dashboard_bench import POSTGRES, fresh_postgres
from ingest_bench import arrow_body, frame

MODEL = "bench-window"


def fill(client, headers: dict, windows: int, rows: int, batch_rows: int, seed: int = 0) -> list[datetime]:
    """Register the model and its reference and send ``windows`` past hourly windows; their starts."""
    rng = np.random.default_rng(seed)
    spec = {"name": MODEL, "window_seconds": 3600, "grace_seconds": 5, "slos": {"roc_auc": 0.7}}
    client.post("/v1/models", json=spec, headers=headers).raise_for_status()
    reference = frame(20_000, rng, 0).drop(columns=["id", "timestamp"])
    reference["label"] = (rng.random(len(reference)) < reference["score"]).astype(int)
    parquet = io.BytesIO()
    reference.to_parquet(parquet)
    parquet_type = {"Content-Type": "application/vnd.apache.parquet"}
    answer = client.post(
        f"/v1/models/{MODEL}/reference", content=parquet.getvalue(), headers=headers | parquet_type
    )
    answer.raise_for_status()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    starts = [now - timedelta(hours=windows + 1 - w) for w in range(windows)]
    arrow = {"Content-Type": "application/vnd.apache.arrow.stream"}
    batch = 0
    for w, start in enumerate(starts):
        for _ in range(rows // batch_rows):
            sent = frame(batch_rows, rng, batch * batch_rows)
            if w % 7 == 3:
                sent["f3"] += 0.5
            sent["timestamp"] = start + pd.to_timedelta(rng.integers(0, 3600, batch_rows), unit="s")
            body = arrow_body(pa.Table.from_pandas(sent, preserve_index=False))
            url = f"/v1/models/{MODEL}/batches?batch_id=b{batch}"
            client.post(url, content=body, headers=headers | arrow).raise_for_status()
            if batch % 5 == 0:
                chosen = sent.iloc[::2]
                labels = [
                    {"id": i, "label": int(r < s)}
                    for i, r, s in zip(chosen["id"], rng.random(len(chosen)), chosen["score"], strict=True)
                ]
                body = {"batch_id": f"l{batch}", "labels": labels}
                client.post(f"/v1/models/{MODEL}/labels", json=body, headers=headers).raise_for_status()
            batch += 1
    return starts


class Sampler:
    """Stack samples of the threads running ``root`` (a function name), every ``interval`` seconds: the
    share of samples each function appears in (inclusive)."""

    def __init__(self, root: str, interval: float = 0.002) -> None:
        self.root, self.interval, self.samples = root, interval, 0
        self.seen: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            for ident, frame_ in sys._current_frames().items():
                names = []
                while frame_ is not None and ident != me:
                    path = frame_.f_code.co_filename.rsplit("/site-packages/", 1)[-1].rsplit("/src/", 1)[-1]
                    names.append(f"{path}:{frame_.f_code.co_name}")
                    frame_ = frame_.f_back
                tops = [i for i, name in enumerate(names) if name.endswith(f":{self.root}")]
                if tops:
                    self.samples += 1
                    self.seen.update(set(names[: tops[-1] + 1]))
            time.sleep(self.interval)

    def shares(self, top: int) -> str:
        total = max(1, self.samples)
        lines = [f"    {100 * n / total:5.1f} %  {name}" for name, n in self.seen.most_common(top)]
        return f"  {self.samples} samples; inclusive shares:\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--windows", type=int, default=120)
    parser.add_argument("--rows", type=int, default=5_000, help="rows per window")
    parser.add_argument("--batch-rows", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="sample the handler: shares by function")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from mlwarden.registry import create_token
    from mlwarden.server import create_app
    from mlwarden.server.dashboard import auth
    from mlwarden.server.windows import MERGED_ITEMS, evaluate_due
    from mlwarden.store import Store

    if args.windows < MERGED_ITEMS + args.repeat:
        parser.error(f"--windows: expected at least {MERGED_ITEMS + args.repeat} (MERGED_ITEMS + --repeat)")
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_postgres(POSTGRES) if args.backend == "postgresql" else str(Path(folder) / "bench.db")
        store = Store(url)
        admin = create_token(store, team="bench", name="admin", scopes=["admin"])
        with TestClient(create_app(store, evaluate_every=None)) as client:
            began = time.perf_counter()
            starts = fill(
                client, {"Authorization": f"Bearer {admin}"}, args.windows, args.rows, args.batch_rows
            )
            evaluate_due(store)
            print(
                f"filled and evaluated {args.windows} windows × {args.rows:,} rows "
                f"({args.rows // args.batch_rows} batches each) in {time.perf_counter() - began:.0f} s"
            )
            page = client.get("/login").text
            csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"token": admin, "csrf": csrf}, follow_redirects=False)
            assert auth.SESSION_COOKIE in client.cookies
            paths = [f"/models/{MODEL}/windows/{quote(s.isoformat(), safe='')}" for s in starts]
            newest, oldest = paths[-args.repeat :], paths[: args.repeat]
            print(f"\n{args.backend}: window page, {args.repeat} requests each: median, slowest ms")
            for label, shown in (
                ("first view, merged by its evaluation", newest),
                ("first view, read from the store", oldest),
                ("repeat view", newest),
            ):
                with Sampler("window_page") as sampler:
                    times = []
                    for path in shown:
                        began = time.perf_counter()
                        answer = client.get(path)
                        times.append((time.perf_counter() - began) * 1000)
                        assert answer.status_code == 200 and "rows in this window" in answer.text, path
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"{label:<38} {statistics.median(times):8.1f} {max(times):8.1f}   load {load}")
                if args.profile:
                    print(sampler.shares(12))
        store.dispose()


if __name__ == "__main__":
    main()
