"""Performance without labels for a whole data set: CBPE for classifiers, DLE for regressors."""

from __future__ import annotations

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.performance.cbpe import CBPE
from mlwarden.performance.dle import DLE
from mlwarden.performance.realized import task_of


def estimate_performance(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    target: str,
    prediction: str | None = None,
    scores: list[str] | tuple[str, ...] = (),
) -> dict[str, float | None]:
    """Estimate ``current``'s metrics from a labelled ``reference`` (see :class:`CBPE`, :class:`DLE`).

    Classification needs score columns: one (P(positive)) for a binary model, or one per class in the
    sorted order of the class labels for a multiclass model. Regression needs the prediction column and
    uses every other shared column as the loss model's input.
    """
    labelled = reference[reference[target].notna()]
    task = task_of(labelled[target])
    if task == "regression":
        if prediction is None:
            raise InputError("estimating regression performance needs the prediction column")
        features = [c for c in labelled.columns if c not in (target, prediction, *scores) and c in current]
        dle = DLE().fit(
            labelled[features], labelled[target].to_numpy(float), labelled[prediction].to_numpy(float)
        )
        return dle.estimate(current[features], current[prediction].to_numpy(float))
    if not scores:
        return {}
    classes = None
    if len(scores) > 1:
        classes = sorted(labelled[target].unique().tolist())
        if len(classes) != len(scores):
            raise InputError(
                f"target '{target}' has {len(classes)} classes ({', '.join(map(str, classes))}) but "
                f"{len(scores)} score columns were given; give one per class, in that order"
            )
    pred_ref = labelled[prediction].to_numpy() if prediction else None
    cbpe = CBPE(classes=classes).fit(
        labelled[target].to_numpy(), labelled[list(scores)].to_numpy(float), pred_ref
    )
    pred_cur = current[prediction].to_numpy() if prediction else None
    return cbpe.estimate(current[list(scores)].to_numpy(float), pred_cur)
