"""Run NannyML's CBPE on a reference/analysis parquet pair; print JSON with per-chunk estimates and wall time.

Runs inside the peers' own virtual environment (``.venv-peers``), called by performance_bench.py:
    .venv-peers/bin/python bench/peers_cbpe.py reference.parquet analysis.parquet 5000
Both files have columns ``score`` (P(positive)), ``y_pred`` and ``y`` (the analysis labels are not given to
the estimator: only the score and prediction columns are passed).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
warnings.filterwarnings("ignore")

import pandas as pd  # noqa: E402

METRICS = ("roc_auc", "accuracy")


def main() -> None:
    import nannyml as nml

    ref_path, ana_path, chunk_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    reference = pd.read_parquet(ref_path)
    analysis = pd.read_parquet(ana_path).drop(columns=["y"])
    start = time.perf_counter()
    estimator = nml.CBPE(
        y_pred_proba="score",
        y_pred="y_pred",
        y_true="y",
        problem_type="classification_binary",
        metrics=list(METRICS),
        chunk_size=chunk_size,
    )
    estimator.fit(reference)
    frame = estimator.estimate(analysis).filter(period="analysis").to_df()
    wall = time.perf_counter() - start
    out: dict[str, object] = {m: frame[(m, "value")].astype(float).tolist() for m in METRICS}
    for m in METRICS:
        out[f"{m}_lower"] = frame[(m, "lower_confidence_boundary")].astype(float).tolist()
        out[f"{m}_upper"] = frame[(m, "upper_confidence_boundary")].astype(float).tolist()
    out["wall"] = wall
    print(json.dumps(out))


if __name__ == "__main__":
    main()
