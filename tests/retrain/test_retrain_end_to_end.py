"""Issue 11's "done when", on the real service: a real server, the SDK logging champion and shadow versions
under the same prediction ids, `mlwarden worker --once` evaluating windows, and the operator CLI.

Drift in an important feature and a performance drop make the policy fire; a challenger trained on recent
data passes the gate in shadow and is promoted; the ledger's outcome later shows the measured improvement;
a worse challenger is rejected with the reason; one better overall but clearly worse on a segment is
rejected naming the segment; two identical models are never promoted.
"""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import numpy as np
from alerts.webhook_server import WebhookServer
from cli_process import mlwarden
from retrain_service import FEATURES, score, traffic
from service_data import parquet_bytes, past_window

from mlwarden.client import Warden
from mlwarden.registry import create_token
from mlwarden.server.background import BackgroundServer
from mlwarden.signing import verify_signature
from mlwarden.store import Store

N = 1_200
SECRET = "e2e-retrain-secret"
CONFIG = """
model: churn
slo: {roc_auc: {min: 0.8}}
retrain:
  triggers:
    slo_breach_windows: 1
    important_drift: 0.3
    importances: {x1: 0.5, x2: 0.4, x3: 0.1}
    min_new_labels: 1000
  gate: {metric: roc_auc, confidence: 0.95}
  notify: {webhook: {url: "HOOK/retrain", secret: "${E2E_RETRAIN_SECRET}"}}
  outcome_windows: 2
"""


def send_hour(url: str, token: str, spool, k: int, versions: tuple[str, ...], seed: int) -> None:
    """Hour ``k`` of shifted traffic: labels first, then each version's scores of the same requests."""
    frame = traffic(N, seed=seed, shifted=True)
    start = past_window(12 - k)
    ids = [f"h{k}-{i}" for i in range(N)]
    stamps = [start + timedelta(seconds=i * 3599 / N) for i in range(N)]
    with Warden(url, token=token, batch_size=N, flush_interval=0.1, spool_dir=spool / "labels") as warden:
        warden.log_labels("churn", ids, frame["label"].tolist())
        assert warden.flush(timeout=60)
    for version in versions:
        scores = score(frame, version)
        spool_dir = spool / f"{k}-{version}"
        with Warden(url, token=token, batch_size=N, spool_dir=spool_dir, model_version=version) as warden:
            warden.log(
                "churn",
                frame[FEATURES],
                prediction=(scores > 0.5).astype(int).tolist(),
                score=scores.tolist(),
                id=ids,
                timestamp=stamps,
            )
            assert warden.flush(timeout=60) and warden.stats.dropped == 0


def cli(*args: object, url: str, token: str):
    return mlwarden("retrain", *args, "--url", url, "--token", token)


def worker(store: Store) -> None:
    done = mlwarden("worker", "--db", store.url, "--once")
    assert done.returncode == 0, done.stderr


def test_the_retrain_loop_on_a_real_service(store: Store, tmp_path, monkeypatch) -> None:
    token = create_token(store, team="growth", name="ops", scopes=["admin"])
    monkeypatch.setenv("E2E_RETRAIN_SECRET", SECRET)  # the worker's environment (a child process)
    with (
        WebhookServer() as hook,
        BackgroundServer(store, evaluate_every=None) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        columns = {"target": "label", "prediction": "prediction", "scores": "score", "positive_label": 1}
        api.post(
            "/v1/models", json={"name": "churn", "slos": {"roc_auc": 0.8}, "columns": columns}
        ).raise_for_status()
        reference = traffic(3_000, seed=1, shifted=False)
        reference["score"] = score(reference, "v1")
        reference["prediction"] = (reference["score"] > 0.5).astype(int)
        api.post(
            "/v1/models/churn/reference",
            content=parquet_bytes(reference),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()
        for version, stage in (("v1", "champion"), ("v2", "shadow"), ("v0", "shadow"), ("v2-copy", "shadow")):
            api.post(
                "/v1/models/churn/versions", json={"version": version, "stage": stage}
            ).raise_for_status()
        url = server.url
        (tmp_path / "churn.yaml").write_text(CONFIG.replace("HOOK", hook.url))
        applied = mlwarden("apply", "-f", tmp_path / "churn.yaml", "--url", url, "--token", token)
        assert applied.returncode == 0, applied.stderr

        # 1. x2 drifts and starts to matter: the champion's realized ROC AUC falls below its SLO; the policy
        # fires after the window: a finding, and a signed POST for the orchestrator
        send_hour(url, token, tmp_path, 0, ("v1",), seed=30)
        worker(store)
        plan = cli("plan", "churn", "--format", "json", url=url, token=token)
        assert plan.returncode == 0, plan.stderr
        plan = json.loads(plan.stdout)
        assert plan["due"] and set(plan["fired"]) == {"slo_breach", "important_drift", "new_labels"}
        why = {t["trigger"]: t for t in plan["triggers"]}
        assert "realized roc_auc" in why["slo_breach"]["reason"]
        assert why["important_drift"]["evidence"]["weighted_share"] >= 0.4  # x2 (0.4) drifted
        (finding,) = api.get("/v1/models/churn/findings", params={"check": "retrain.trigger"}).json()
        assert finding["severity"] == "warning" and finding["message"].startswith("retrain due: slo_breach")
        (posted,) = hook.requests
        assert verify_signature(posted["headers"]["X-Mlwarden-Signature"], posted["raw"], SECRET)
        assert posted["body"]["model"] == "churn" and posted["path"] == "/retrain"
        assert {t["trigger"] for t in posted["body"]["triggers"]} == set(plan["fired"])
        (sent,) = api.get("/v1/models/churn/retrain/notifications").json()
        assert (sent["status"], sent["attempts"]) == ("delivered", 1)
        assert sent["key"] == posted["headers"]["Idempotency-Key"]
        table = cli("plan", "churn", "--config", tmp_path / "churn.yaml", url=url, token=token)
        assert table.returncode == 0 and "due" in table.stdout and "slo_breach" in table.stdout

        # 2. the retrained challenger scores in shadow beside the champion, passes the gate, is promoted
        send_hour(url, token, tmp_path, 1, ("v1", "v2"), seed=31)
        worker(store)
        shadow = api.get("/v1/models/churn/shadow", params={"version": "v2"}).json()
        (window,) = shadow["windows"]
        assert window["rows"] == window["labelled"] == N and 0.5 < window["agreement"] < 1
        assert window["delta"] > 0 and window["ci"][0] > 0
        judged = cli(
            "record", "churn", "v2", "--trigger", "slo_breach", "--format", "json", url=url, token=token
        )
        assert judged.returncode == 0, judged.stderr
        assert json.loads(judged.stdout)["decision"] == "promote"
        promoted = cli("promote", "churn", "v2", url=url, token=token)
        assert promoted.returncode == 0 and "v2 is the champion of churn (was v1)" in promoted.stdout

        # 3. the old champion keeps scoring in shadow; two windows later the outcome is measured
        send_hour(url, token, tmp_path, 2, ("v2", "v1"), seed=32)
        send_hour(url, token, tmp_path, 3, ("v2", "v1"), seed=33)
        worker(store)
        history = json.loads(cli("history", "churn", "--format", "json", url=url, token=token).stdout)
        (first,) = history["retrains"]
        assert history["summary"]["helped"] == 1 and first["outcome_status"] == "helped"
        outcome = first["outcome"]
        assert outcome["n"] == 2 * N and outcome["delta"] > 0.03 and outcome["ci"][0] > 0
        table = cli("history", "churn", url=url, token=token).stdout
        assert "helped 1" in table and "v1 → v2" in table

        # 4. a worse challenger is rejected with the reason, and cannot be promoted
        send_hour(url, token, tmp_path, 4, ("v2", "v0", "v2-copy"), seed=34)
        worker(store)
        worse = cli("record", "churn", "v0", url=url, token=token)
        assert worse.returncode == 1 and "challenger is worse overall" in worse.stdout
        refused = cli("promote", "churn", "v0", url=url, token=token)
        assert refused.returncode == 2 and "the gate decided reject" in refused.stderr

        # 5. two identical models: never promoted
        same = cli("record", "churn", "v2-copy", url=url, token=token)
        assert same.returncode == 1 and "same output on every row" in same.stdout
        assert cli("promote", "churn", "v2-copy", url=url, token=token).returncode == 2

        # 6. better overall, clearly worse on one segment: rejected naming it (offline gate, recorded)
        frame = traffic(6_000, seed=40, shifted=True)
        frame["segment"] = np.random.default_rng(41).choice(["north", "south"], size=len(frame), p=[0.8, 0.2])
        frame["champion"] = score(frame, "v1")
        frame["challenger"] = score(frame, "v2-south")
        frame.to_parquet(tmp_path / "recent.parquet")
        api.post("/v1/models/churn/versions", json={"version": "v3", "stage": "shadow"}).raise_for_status()
        segment = cli(
            "evaluate",
            tmp_path / "recent.parquet",
            "--target",
            "label",
            "--champion-score",
            "champion",
            "--challenger-score",
            "challenger",
            "--slice",
            "segment",
            "--record",
            "churn",
            "--candidate",
            "v3",
            "--format",
            "json",
            url=url,
            token=token,
        )
        assert segment.returncode == 1, segment.stderr
        decision = json.loads(segment.stdout)
        assert decision["decision"] == "reject" and decision["delta"] > 0  # better overall
        assert decision["reasons"][0].startswith("challenger is worse on segment=south")
        latest = api.get("/v1/models/churn/retrains").json()["retrains"][0]
        assert (latest["candidate_version"], latest["decision"]) == ("v3", "reject")
        assert cli("promote", "churn", "v3", url=url, token=token).returncode == 2

        versions = {v["version"]: v["stage"] for v in api.get("/v1/models/churn").json()["versions"]}
        assert versions["v2"] == "champion" and versions["v1"] == "retired"
