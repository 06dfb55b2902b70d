"""Shadow traffic: versions that score the same requests as the champion, compared with it window by window.

The SDK logs each batch with its ``model_version``; champion and shadow versions score the same requests
under the same prediction ids. A window's checks read the served traffic only
(:func:`mlwarden.server.windows.served_batch`); here each other version seen in the window is paired
with it on the prediction ids both scored: the **agreement** rate of their predicted labels and, on the
rows whose label arrived, the paired metric difference (shadow − champion) with its interval and p-value —
the gate's own paired test (:func:`mlwarden.retrain.gate`, DeLong / McNemar / paired bootstrap) at the
model's ``retrain.gate`` settings. One ``shadow_windows`` row per window and version, replaced when the
window is evaluated again (late data, late labels).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mlwarden.errors import InputError
from mlwarden.registry.columns import model_mapping
from mlwarden.schema import ColumnMapping
from mlwarden.schema.retraining import GateSettings
from mlwarden.store import Store
from mlwarden.store.schema import Batch, Model, ModelVersion, PartialProfile, ShadowWindow, Window

log = logging.getLogger("mlwarden.shadow")
CHAMPION, CHALLENGER = "champion_output", "challenger_output"


def champion_version(session: Session, model_id: int) -> str | None:
    return session.scalar(
        select(ModelVersion.version).where(
            ModelVersion.model_id == model_id, ModelVersion.stage == "champion"
        )
    )


def compare_window(
    store: Store, model_id: int, window_id: int, settings: GateSettings
) -> list[dict[str, Any]]:
    """Compare every shadow version seen in the window with the served traffic; store and return the rows
    (:func:`shadow_dict` shape)."""
    from mlwarden.server.windows import outputs_between, served_batch

    with store.session() as session:
        model = session.get(Model, model_id)
        window = session.get(Window, window_id)
        versions = session.scalars(
            select(Batch.model_version)
            .join(PartialProfile, PartialProfile.batch_pk == Batch.id)
            .where(
                PartialProfile.model_id == model_id,
                PartialProfile.window_start == window.start,
                Batch.model_version.is_not(None),
                ~served_batch(model_id),
            )
            .distinct()
        ).all()
        if not versions:
            return []
        mapping = model_mapping(model)
        served = outputs_between(session, model, mapping, window.start, window.end)
        shadows = {v: outputs_between(session, model, mapping, window.start, window.end, v) for v in versions}
        champion = champion_version(session, model_id)
    rows = []
    for version, shadow in sorted(shadows.items()):
        stats = paired_stats(served, shadow, mapping, settings)
        rows.append(
            ShadowWindow(
                model_id=model_id,
                window_start=window.start,
                window_end=window.end,
                version=version,
                champion_version=champion,
                rows=stats.pop("rows"),
                agreement=stats.pop("agreement"),
                labelled=stats.pop("labelled"),
                stats=stats,
            )
        )
    with store.session() as session:
        session.execute(
            delete(ShadowWindow).where(
                ShadowWindow.model_id == model_id, ShadowWindow.window_start == window.start
            )
        )
        session.add_all(rows)
        session.flush()
        return [shadow_dict(r) for r in rows]


def paired_stats(
    champion: pd.DataFrame, shadow: pd.DataFrame, mapping: ColumnMapping, settings: GateSettings
) -> dict[str, Any]:
    """``rows`` both scored (joined on the prediction id), ``agreement`` (share of equal predicted labels;
    ``None`` without predicted labels), ``labelled`` rows, and the gate's paired comparison on them:
    ``metric``, ``champion``, ``challenger`` (the shadow), ``delta``, ``ci``, ``p_value``, ``test`` — or
    ``note`` saying why there is none."""
    frame, metric = paired_frame(champion, shadow, mapping, settings.metric)
    out: dict[str, Any] = {"rows": len(frame), "agreement": None, "labelled": 0}
    if frame.empty:
        return out | {"note": "no prediction id scored by both"}
    if f"{CHAMPION}_label" in frame:
        a, b = frame[f"{CHAMPION}_label"], frame[f"{CHALLENGER}_label"]
        both = a.notna() & b.notna()
        if both.any():
            out["agreement"] = float((a[both].astype(str) == b[both].astype(str)).mean())
    labelled = frame[mapping.target].notna()
    out["labelled"] = int(labelled.sum())
    if metric is None:
        return out | {"note": "no output to compare the versions on"}
    if not out["labelled"]:
        return out | {"metric": metric, "note": "no label yet"}
    return out | comparison(frame[labelled], mapping, settings.model_copy(update={"metric": metric}))


def comparison(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    settings: GateSettings,
    *,
    champion: str = CHAMPION,
    challenger: str = CHALLENGER,
    full: bool = False,
) -> dict[str, Any]:
    """The gate's paired comparison of labelled paired rows (:func:`paired_frame` columns; ``champion`` and
    ``challenger`` name the sides), overall only: ``{metric, test, n, champion, challenger, delta, ci,
    p_value}`` — the whole DESIGN §8 result when ``full`` — or ``{metric, note}`` when impossible."""
    from mlwarden.retrain import METRICS, gate

    column = {"score": "score", "label": "label", "value": "value"}[METRICS[settings.metric].output]
    try:
        result = gate(
            frame,
            target=mapping.target,
            champion=f"{champion}_{column}",
            challenger=f"{challenger}_{column}",
            metric=settings.metric,
            min_improvement=settings.min_improvement,
            confidence=settings.confidence,
            positive_label=mapping.positive_label,
        )
    except InputError as exc:
        return {"metric": settings.metric, "note": str(exc)}
    if full:
        return result.to_dict()
    keys = ("metric", "test", "n", "champion", "challenger", "delta", "ci", "p_value")
    return {k: v for k, v in result.to_dict().items() if k in keys}


def paired_frame(
    champion: pd.DataFrame, shadow: pd.DataFrame, mapping: ColumnMapping, metric: str
) -> tuple[pd.DataFrame, str | None]:
    """Rows both scored, joined on the id: the target and each side's ``_label`` (predicted label),
    ``_score`` (P(positive), binary) and ``_value`` (regression prediction) columns, and the metric they
    can be compared on (``metric`` when both sides have its output, else accuracy on labels, else None)."""
    from mlwarden.retrain import METRICS

    def outputs(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
        out = pd.DataFrame({mapping.id: frame[mapping.id]})
        prediction = frame.get(mapping.prediction)
        if prediction is not None and prediction.notna().any():
            out[f"{prefix}_label"] = prediction
            out[f"{prefix}_value"] = pd.to_numeric(prediction, errors="coerce")
        scores = mapping.score_columns
        if len(scores) == 1 and scores[0] in frame and frame[scores[0]].notna().any():
            out[f"{prefix}_score"] = frame[scores[0]].astype(float)
        return out

    served = outputs(champion, CHAMPION).assign(**{mapping.target: champion[mapping.target]})
    frame = served.merge(outputs(shadow, CHALLENGER), on=mapping.id, how="inner")
    frame = frame.drop_duplicates(subset=mapping.id, keep="last")
    have = {c.split("_")[-1] for c in frame.columns if c.startswith(CHALLENGER)}
    have &= {c.split("_")[-1] for c in frame.columns if c.startswith(CHAMPION)}
    need = {"score": "score", "label": "label", "value": "value"}[METRICS[metric].output]
    if need in have and not (need == "value" and frame[f"{CHAMPION}_value"].isna().all()):
        return frame, metric
    return frame, "accuracy" if "label" in have else None


def shadow_dict(row: ShadowWindow) -> dict[str, Any]:
    return {
        "window_start": row.window_start.isoformat(),
        "window_end": row.window_end.isoformat(),
        "version": row.version,
        "champion_version": row.champion_version,
        "rows": row.rows,
        "agreement": row.agreement,
        "labelled": row.labelled,
        **row.stats,
    }


def shadow_history(
    session: Session, model_id: int, version: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Stored shadow comparisons, oldest window first (one version's, and from ``since``, when given)."""
    query = select(ShadowWindow).where(ShadowWindow.model_id == model_id)
    if version is not None:
        query = query.where(ShadowWindow.version == version)
    if since is not None:
        query = query.where(ShadowWindow.window_start >= since)
    return [
        shadow_dict(r)
        for r in session.scalars(query.order_by(ShadowWindow.window_start, ShadowWindow.version))
    ]


def shadow_summary(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """A version's shadow record over windows: windows, paired rows, row-weighted agreement, labelled rows
    and the latest window's paired comparison."""
    rows = sum(w["rows"] for w in windows)
    weighted = [(w["agreement"], w["rows"]) for w in windows if w["agreement"] is not None and w["rows"]]
    agreement = (
        float(np.average([a for a, _ in weighted], weights=[n for _, n in weighted])) if weighted else None
    )
    latest = next((w for w in reversed(windows) if w.get("delta") is not None), None)
    return {
        "windows": len(windows),
        "rows": rows,
        "agreement": agreement,
        "labelled": sum(w["labelled"] for w in windows),
        "latest": latest,
    }
