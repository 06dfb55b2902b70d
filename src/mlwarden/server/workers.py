"""``mlwarden serve --workers N``: uvicorn runs N processes, each building the app from the settings
``serve`` leaves in the environment (a process cannot be handed a Python object).

Every worker serves the API and, unless evaluation is left to ``mlwarden worker``, runs its own scheduler:
windows are claimed atomically (:func:`mlwarden.server.windows.claim`), so each is evaluated once however
many processes — workers of one ``serve``, several ``serve`` or ``worker`` processes — share the store.
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI

SETTINGS_ENV = "MLWARDEN_SERVE_SETTINGS"


def export_settings(db: str, *, auth: bool, evaluate_every: float | None, log_level: str) -> None:
    """Leave the app's settings for the worker processes (they inherit the environment)."""
    settings = {"db": db, "auth": auth, "evaluate_every": evaluate_every, "log_level": log_level}
    os.environ[SETTINGS_ENV] = json.dumps(settings)


def app_from_environment() -> FastAPI:
    """The app of one worker process (uvicorn's ``factory=True`` target). The parent migrated the store
    already: N workers do not race to upgrade it."""
    from mlwarden.server.app import create_app
    from mlwarden.server.logs import configure
    from mlwarden.store import Store

    settings: dict[str, Any] = json.loads(os.environ[SETTINGS_ENV])
    configure(settings["log_level"])
    store = Store(settings["db"], migrate=False)
    return create_app(store, auth=settings["auth"], evaluate_every=settings["evaluate_every"])
