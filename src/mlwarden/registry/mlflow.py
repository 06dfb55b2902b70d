"""An MLflow model registry as the source of a model's versions and the place its champion is named.

mlwarden reads versions from MLflow (``mlwarden retrain mlflow-sync``: each MLflow version not yet in
mlwarden is registered with its ``source`` as artifact URI, as champion when it holds the alias) and, when a
retrain is promoted, moves the ``champion`` alias there (MLflow's recommended replacement for stages).

It speaks MLflow's REST API (``/api/2.0/mlflow/...``, documented at mlflow.org/docs/latest/rest-api.html)
with httpx: the service needs no ``mlflow`` package (whose pins on pyarrow and protobuf would constrain the
service's own); the ``mlflow`` extra installs MLflow for running its server and for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from mlwarden.errors import InputError, MlwardenError, NotFoundError

CHAMPION_ALIAS = "champion"


class MlflowError(MlwardenError):
    """MLflow could not be reached or refused a request: one line naming the call and MLflow's message."""


@dataclass(frozen=True)
class MlflowVersion:
    """One version of a registered model in MLflow."""

    name: str
    version: str
    source: str | None
    run_id: str | None
    status: str | None
    aliases: tuple[str, ...] = field(default_factory=tuple)


class MlflowRegistry:
    """A client of one MLflow tracking server's model registry (``tracking_uri``: ``http(s)://host:port``)."""

    def __init__(self, tracking_uri: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        if not tracking_uri.startswith(("http://", "https://")):
            raise InputError(f"mlflow.tracking_uri: expected http(s)://host:port, got {tracking_uri!r}")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.uri = tracking_uri.rstrip("/")
        self._client = httpx.Client(base_url=self.uri + "/api/2.0/mlflow", headers=headers, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise MlflowError(
                f"MLflow at {self.uri}: cannot reach it ({type(exc).__name__}: {exc})"
            ) from None
        if response.is_success:
            return response.json() if response.content else {}
        try:
            body = response.json()
            code, message = body.get("error_code", ""), body.get("message", response.text)
        except ValueError:
            code, message = "", response.text[:300]
        if code == "RESOURCE_DOES_NOT_EXIST" or response.status_code == 404:
            raise NotFoundError(f"MLflow: {message}")
        raise MlflowError(f"MLflow {method} {path}: HTTP {response.status_code} {code}: {message}")

    def versions(self, name: str) -> list[MlflowVersion]:
        """Every version of the registered model ``name``, oldest first, with its aliases."""
        aliases: dict[str, list[str]] = {}
        model = self._call("GET", "/registered-models/get", params={"name": name})["registered_model"]
        for entry in model.get("aliases", []):
            aliases.setdefault(str(entry["version"]), []).append(entry["alias"])
        found, token = [], None
        while True:
            params = {"filter": f"name='{name}'", "max_results": 200}
            if token:
                params["page_token"] = token
            page = self._call("GET", "/model-versions/search", params=params)
            found += page.get("model_versions", [])
            token = page.get("next_page_token")
            if not token:
                break
        return sorted(
            (
                MlflowVersion(
                    name=name,
                    version=str(v["version"]),
                    source=v.get("source"),
                    run_id=v.get("run_id") or None,
                    status=v.get("status"),
                    aliases=tuple(aliases.get(str(v["version"]), ())),
                )
                for v in found
            ),
            key=lambda v: int(v.version) if v.version.isdigit() else v.version,
        )

    def alias(self, name: str, alias: str = CHAMPION_ALIAS) -> str | None:
        """The version holding ``alias``, or None."""
        try:
            found = self._call("GET", "/registered-models/alias", params={"name": name, "alias": alias})
        except NotFoundError:
            return None
        return str(found["model_version"]["version"])

    def set_alias(self, name: str, version: str, alias: str = CHAMPION_ALIAS) -> None:
        """Point ``alias`` at ``version`` (MLflow moves it from whichever version held it)."""
        self._call(
            "POST", "/registered-models/alias", json={"name": name, "alias": alias, "version": version}
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> MlflowRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def client_for(target: Any) -> MlflowRegistry:
    """A client for a ``retrain.mlflow`` section (its ``token`` may be a ``${ENV}`` reference)."""
    from mlwarden.schema.secrets import resolve

    token = resolve(target.token, field="retrain.mlflow.token") if target.token else None
    return MlflowRegistry(target.tracking_uri, token=token)


def sync_versions(registry: Any, actor: Any, name: str, target: Any) -> list[dict[str, Any]]:
    """Register in mlwarden every version of MLflow's registered model (``target.model``, default ``name``)
    that it lacks, labelled with MLflow's version number and its ``source`` as artifact URI: as champion
    when it holds MLflow's ``champion`` alias and the model has no champion yet, else in shadow. Returns
    the versions registered."""
    existing = {v["version"] for v in registry.get_model(actor, name)["versions"]}
    has_champion = any(v["stage"] == "champion" for v in registry.get_model(actor, name)["versions"])
    added = []
    with client_for(target) as mlflow:
        for version in mlflow.versions(target.model or name):
            if version.version in existing:
                continue
            champion = CHAMPION_ALIAS in version.aliases and not has_champion
            added.append(
                registry.register_version(
                    actor,
                    name,
                    version.version,
                    stage="champion" if champion else "shadow",
                    artifact_uri=version.source,
                )
            )
            has_champion = has_champion or champion
    return added
