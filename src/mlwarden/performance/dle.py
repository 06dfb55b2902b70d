"""Direct loss estimation (DLE): regression performance without labels.

A gradient-boosted model learns, on the labelled reference, to predict each row's absolute error and
squared error from the model's inputs and its prediction. On unlabelled data the mean predicted absolute
error estimates MAE, the root of the mean predicted squared error estimates RMSE; their 95 % bands are
Student-t intervals of those means (:func:`~mlwarden.performance.realized.mean_bands`): how much a window's
expected loss varies with the rows it happens to hold. Like CBPE it assumes the reference's relation
between inputs and outcome still holds (no concept shift).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.performance.realized import mean_bands
from mlwarden.threads import single_threaded


@dataclass
class DLE:
    """Estimate MAE and RMSE of a regression model from its inputs and predictions."""

    seed: int = 0
    features: list[str] = field(default_factory=list, init=False)
    _models: dict = field(default_factory=dict, init=False, repr=False)

    def fit(self, features: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray) -> DLE:
        from sklearn.ensemble import HistGradientBoostingRegressor

        y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        if ok.sum() < 50:
            raise InputError(f"DLE needs at least 50 labelled reference rows, got {int(ok.sum())}")
        self.features = list(features.columns)
        x = self._design(features[ok], y_pred[ok])
        err = y_pred[ok] - y_true[ok]
        # One OpenMP thread, as for the domain classifier: under CPU contention (a server ingesting, a CI run)
        # OpenMP's spin-waiting stalled these fits 15-fold; on one thread they take about as long unloaded.
        with single_threaded():
            for name, target in (("abs", np.abs(err)), ("sq", err * err)):
                model = HistGradientBoostingRegressor(max_iter=150, learning_rate=0.1, random_state=self.seed)
                self._models[name] = model.fit(x, target)
        return self

    def estimate(self, features: pd.DataFrame, y_pred: np.ndarray) -> dict[str, float | None]:
        if not self._models:
            raise InputError("DLE is not fitted: call fit() on a labelled reference first")
        missing = [c for c in self.features if c not in features.columns]
        if missing:
            raise InputError(f"columns missing for loss estimation: {', '.join(missing)}")
        x = self._design(features[self.features], np.asarray(y_pred, dtype=float))
        if x.shape[0] == 0:
            return {"n": 0.0}
        with single_threaded():
            abs_err = np.clip(self._models["abs"].predict(x), 0, None)
            sq_err = np.clip(self._models["sq"].predict(x), 0, None)
        mae, mse = float(abs_err.mean()), float(sq_err.mean())
        out = {"n": float(x.shape[0]), "mae": mae, "rmse": float(np.sqrt(mse))}
        return out | mean_bands("mae", abs_err) | mean_bands("rmse", sq_err, root=True)

    def _design(self, features: pd.DataFrame, y_pred: np.ndarray) -> np.ndarray:
        columns = []
        for name in features.columns:
            col = features[name]
            if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
                columns.append(col.to_numpy(dtype=float, na_value=np.nan))
            else:  # stable codes: hashing keeps the same category on the same code in every window
                columns.append(
                    (pd.util.hash_pandas_object(col.astype(str), index=False) % 1024).to_numpy(float)
                )
        columns.append(y_pred)
        return np.column_stack(columns)
