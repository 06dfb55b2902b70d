"""Models, versions, owners and tokens: who owns what, and who may see it."""

from mlwarden.registry.actor import SCOPES, Actor
from mlwarden.registry.columns import SERVICE_DEFAULTS, model_mapping, service_mapping
from mlwarden.registry.registry import STAGES, ModelSpec, Registry, find_model
from mlwarden.registry.tokens import authenticate, create_token, revoke_token

__all__ = [
    "SCOPES",
    "SERVICE_DEFAULTS",
    "STAGES",
    "Actor",
    "ModelSpec",
    "Registry",
    "authenticate",
    "create_token",
    "find_model",
    "model_mapping",
    "revoke_token",
    "service_mapping",
]
