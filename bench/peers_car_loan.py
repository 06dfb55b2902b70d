"""Write NannyML's bundled car-loan data as two parquet files, in the columns ``peers_cbpe.py`` reads.

Runs inside the peers' own virtual environment (``.venv-peers``), called by ``peers_chunks.py``:
    .venv-peers/bin/python bench/peers_car_loan.py FOLDER
``reference.parquet`` and ``analysis.parquet`` keep every input column, ``timestamp`` and ``id``, and add
``score`` (= ``y_pred_proba``), ``y_pred`` and ``y`` (= ``repaid``; the analysis labels from NannyML's
separate targets frame, joined on ``id``).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
warnings.filterwarnings("ignore")


def main() -> None:
    import nannyml as nml

    folder = Path(sys.argv[1])
    reference, analysis, targets = nml.load_synthetic_car_loan_dataset()
    analysis = analysis.merge(targets, on="id", how="left", validate="one_to_one")
    for name, frame in (("reference", reference), ("analysis", analysis)):
        frame = frame.rename(columns={"y_pred_proba": "score", "repaid": "y"})
        frame.to_parquet(folder / f"{name}.parquet", index=False)


if __name__ == "__main__":
    main()
