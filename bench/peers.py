"""Drift side by side: mlwarden, a numpy floor, Evidently, NannyML and whylogs on the same Parquet files.

    .venv/bin/python bench/peers.py                    # 100k and 1M rows with the peers, 10M ours + numpy
    .venv/bin/python bench/peers.py --rows 100000 --no-peers

The data is ``make_frames`` (bench/common.py): 20 numeric and 5 categorical columns, 10 of them shifted
(0.1–0.5 sd, or a fifth of the categories 1.5× more frequent), 15 unshifted. Each tool runs in its own
process on the same files (bench/peer_tools.py: the minimum of ``--repeats`` runs, ``--peer-repeats`` for
the peers whose runs take tens of seconds, after an untimed warm-up; the peak resident memory above the
loaded data); mlwarden and numpy with this interpreter, the peers with
``--peers-python`` (default ``.venv-peers/bin/python``, the environment of the extra ``bench``), and only
up to ``--peers-up-to`` rows. Prints per size: wall seconds, ratio to mlwarden and to the floor, peak MB,
the shifts missed (of 10) and the false alarms (of 15 unshifted columns); and the load average, since
timings on a shared machine are inflated by it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import N_CATEGORICAL, N_NUMERIC, load_average, shifted_columns, write_frames

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE.parent / ".venv-peers" / "bin" / "python"
OURS = ("numpy", "mlwarden")
PEERS = ("nannyml", "whylogs", "evidently")


def run_tool(python: Path | str, tool: str, ref: Path, cur: Path, repeats: int) -> dict:
    """One tool in its own process (bench/peer_tools.py): its JSON line or {"error": its last stderr line}."""
    command = [str(python), str(HERE / "peer_tools.py"), tool, str(ref), str(cur), "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def errors(drifted: list[str]) -> tuple[int, int]:
    """(shifts missed of the 10 shifted columns, false alarms among the 15 unshifted ones)."""
    truth = shifted_columns()
    return len(truth - set(drifted)), len(set(drifted) - truth)


def table(rows: int, results: dict[str, dict], repeats: int, peer_repeats: int) -> str:
    ours, floor = results["mlwarden"], results["numpy"]
    unshifted = N_NUMERIC + N_CATEGORICAL - len(shifted_columns())
    lines = [
        f"{rows:,} reference + {rows:,} current rows, {ours.get('input', 0) / 1e6:,.0f} MB in memory; wall: "
        f"min of {repeats} runs (peers {peer_repeats}), imports and warm-up untimed; {load_average()}",
        f"{'tool':<18} {'wall s':>8} {'× ours':>8} {'× numpy':>8} {'peak MB':>8} "
        f"{f'missed/{len(shifted_columns())}':>10} {f'false/{unshifted}':>9}",
    ]
    for tool, r in results.items():
        if "error" in r:
            lines.append(f"{tool:<18} failed: {r['error']}")
            continue
        missed, false = errors(r["drifted"]) if tool != "numpy" else ("–", "–")
        ratio = f"{r['wall'] / ours['wall']:>8.2f}" if "wall" in ours else f"{'–':>8}"
        versus_floor = f"{r['wall'] / floor['wall']:>8.2f}" if "wall" in floor else f"{'–':>8}"
        lines.append(
            f"{tool + ' ' + r['version']:<18} {r['wall']:>8.2f} {ratio} {versus_floor} "
            f"{r['peak_rss'] / 1e6:>8,.0f} {missed!s:>10} {false!s:>9}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--peers-up-to", type=int, default=1_000_000, help="largest size the peers run")
    parser.add_argument("--peers-python", type=Path, default=PEERS_PYTHON, help="python of the extra bench")
    parser.add_argument("--no-peers", action="store_true", help="mlwarden and the numpy floor only")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of ours and numpy (minimum shown)")
    parser.add_argument("--peer-repeats", type=int, default=1, help="timed runs of each peer (minimum shown)")
    args = parser.parse_args()
    for option in ("repeats", "peer_repeats"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1, got {getattr(args, option)}")
    peers = not args.no_peers
    if peers and not args.peers_python.exists():
        print(f"no peers' python at {args.peers_python} (README.md, Benchmarks): running without the peers\n")
        peers = False
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            ref, cur = write_frames(rows, Path(tmp))
            results = {tool: run_tool(sys.executable, tool, ref, cur, args.repeats) for tool in OURS}
            if peers and rows <= args.peers_up_to:
                for tool in PEERS:
                    results[tool] = run_tool(args.peers_python, tool, ref, cur, args.peer_repeats)
            print(table(rows, results, args.repeats, args.peer_repeats) + "\n", flush=True)
            ref.unlink()
            cur.unlink()


if __name__ == "__main__":
    main()
