"""Models, versions, owners and tokens: who owns what, and who may see it."""

from mlwarden.registry.actor import SCOPES, Actor
from mlwarden.registry.registry import STAGES, ModelSpec, Registry
from mlwarden.registry.tokens import authenticate, create_token, revoke_token

__all__ = [
    "SCOPES",
    "STAGES",
    "Actor",
    "ModelSpec",
    "Registry",
    "authenticate",
    "create_token",
    "revoke_token",
]
