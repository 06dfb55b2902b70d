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


def export_settings(db: str, *, log_level: str, **app_options: Any) -> None:
    """Leave the app's settings (``create_app``'s keyword options, JSON-able) for the worker processes
    (they inherit the environment)."""
    os.environ[SETTINGS_ENV] = json.dumps({"db": db, "log_level": log_level, "app": app_options})


def app_from_environment() -> FastAPI:
    """The app of one worker process (uvicorn's ``factory=True`` target). The parent migrated the store
    already: N workers do not race to upgrade it."""
    from mlwarden.server.app import create_app
    from mlwarden.server.logs import configure
    from mlwarden.store import Store

    settings: dict[str, Any] = json.loads(os.environ[SETTINGS_ENV])
    configure(settings["log_level"])
    store = Store(settings["db"], migrate=False)
    return create_app(store, **settings["app"])
