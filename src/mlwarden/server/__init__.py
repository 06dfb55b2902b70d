"""The service: FastAPI app, durable ingestion, window evaluation, metrics and structured logs."""

from mlwarden.server.app import create_app

__all__ = ["create_app"]
