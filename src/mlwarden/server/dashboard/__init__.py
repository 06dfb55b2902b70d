"""The web dashboard served by ``mlwarden serve`` under ``/`` (DESIGN §10): :data:`router` holds its pages."""

from mlwarden.server.dashboard.pages import router

__all__ = ["router"]
