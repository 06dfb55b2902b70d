"""Per-chunk estimated performance on NannyML's bundled car-loan data: ours (``mw.Monitor``) and NannyML's.

    .venv/bin/python bench/peers_chunks.py     # needs .venv-peers with nannyml 0.13.1, statsmodels (PEERS.md)

The data (50,000 labelled reference rows, 50,000 analysis rows whose labels come separately) is written by
``peers_car_loan.py`` in the peers' virtual environment; the analysis is cut into chunks of 5,000 rows in
time order. Ours: ``Monitor(reference).check_chunks(analysis, chunk_size=5000)`` — one reference profile,
one CBPE fit, every chunk's drift, quality and performance. NannyML 0.13.1: its CBPE on the same files and
chunks (``peers_cbpe.py``: the analysis labels are not given to it). The realized metrics come from the
analysis labels (one definition for both). Printed: per chunk, realized and estimated ROC AUC and accuracy
of both tools, then each tool's mean absolute error of the estimate and its wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import mlwarden as mw
from mlwarden.performance import CBPE

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE.parent / ".venv-peers" / "bin" / "python"
METRICS = ("roc_auc", "accuracy")
MAPPING = mw.ColumnMapping(target="y", prediction="y_pred", scores="score", id="id", timestamp="timestamp")


def peer(python: Path, script: str, *args: object) -> str:
    """Run ``script`` with the peers' ``python``; its standard output."""
    env = {**os.environ, "NML_DISABLE_USAGE_LOGGING": "1"}
    command = [str(python), script, *map(str, args)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=HERE, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{script} failed: {(out.stderr.strip().splitlines() or ['no output'])[-1]}")
    return out.stdout


def mae(estimate: list[float], realized: list[float]) -> float:
    return float(np.mean(np.abs(np.asarray(estimate) - np.asarray(realized))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--peers-python", type=Path, default=PEERS_PYTHON, help="python of .venv-peers")
    args = parser.parse_args()
    if not args.peers_python.exists():
        raise SystemExit(f"no peers' python at {args.peers_python} (see /work/shared/PEERS.md)")
    with tempfile.TemporaryDirectory() as folder:
        peer(args.peers_python, "peers_car_loan.py", folder)
        reference = pd.read_parquet(Path(folder) / "reference.parquet")
        analysis = pd.read_parquet(Path(folder) / "analysis.parquet")
        files = [Path(folder) / "reference.parquet", Path(folder) / "analysis.parquet"]
        theirs = json.loads(
            peer(args.peers_python, "peers_cbpe.py", *files, args.chunk_size).splitlines()[-1]
        )
    start, cpu = time.perf_counter(), time.process_time()
    chunked = mw.Monitor(reference, MAPPING).check_chunks(analysis, chunk_size=args.chunk_size)
    ours_wall, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    cbpe = CBPE().fit(
        reference["y"].to_numpy(), reference["score"].to_numpy(), reference["y_pred"].to_numpy()
    )
    for i in range(0, len(analysis), args.chunk_size):
        part = analysis.iloc[i : i + args.chunk_size]
        cbpe.estimate(part["score"].to_numpy(), part["y_pred"].to_numpy())
    cbpe_wall = time.perf_counter() - start
    est = {m: [c.report.performance["estimated"][m] for c in chunked.chunks] for m in METRICS}
    real = {m: [c.report.performance["realized"][m] for c in chunked.chunks] for m in METRICS}
    print(f"car-loan data: reference {len(reference):,} rows, analysis {len(analysis):,} rows in chunks of "
          f"{args.chunk_size:,}")  # fmt: skip
    head = " │ ".join(f"{m:^26}" for m in METRICS)
    print(f"{'':>5} {'':>19} │ {head}")
    sub = " │ ".join(f"{'realized':>8} {'ours':>8} {'nannyml':>8}" for _ in METRICS)
    print(f"{'chunk':>5} {'start':>19} │ {sub}")
    for i, chunk in enumerate(chunked.chunks):
        start_at = analysis["timestamp"].iloc[chunk.start]
        cells = " │ ".join(f"{real[m][i]:>8.4f} {est[m][i]:>8.4f} {theirs[m][i]:>8.4f}" for m in METRICS)
        print(f"{chunk.key:>5} {str(start_at)[:19]:>19} │ {cells}")
    print("mean absolute error of the estimate over the chunks:")
    for m in METRICS:
        print(f"  {m:<9} ours {mae(est[m], real[m]):.4f}   nannyml {mae(theirs[m], real[m]):.4f}")
    print(
        f"wall: ours {ours_wall:.2f} s (CPU {ours_cpu:.2f} s) "
        "for all checks (profiles, drift, quality, CBPE); "
        f"{cbpe_wall:.2f} s for CBPE fit + estimates alone; "
        f"nannyml {theirs['wall']:.2f} s (CBPE fit + estimates)"
    )


if __name__ == "__main__":
    main()
