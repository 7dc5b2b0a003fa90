"""HTTP plumbing shared by every router: the runtime handle, authentication, error shapes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import HTTPException, Request, status

from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.config import Settings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database, WriteBatcher
from whatsapp_ai.core.memo import Memo
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.queue import Queue


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant always comes from here, never from the request."""

    tenant_id: str
    key_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)


Authenticator = Callable[[str], Awaitable[Principal | None]]


class Runtime(Protocol):
    """What routers may use; bootstrap's container provides it."""

    settings: Settings
    clock: Clock
    db: Database
    queue: Queue
    metrics: Metrics
    box: SecretBox
    batcher: WriteBatcher
    memo: Memo
    blobs: BlobStore

    async def authenticate(self, token: str) -> Principal | None:
        """Resolve a bearer API key to its principal."""
        ...


def runtime(request: Request) -> Runtime:
    """The runtime the application was built with."""
    result: Runtime = request.app.state.runtime
    return result


async def require_principal(request: Request) -> Principal:
    """FastAPI dependency: a valid bearer API key, else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await runtime(request).authenticate(token.strip())
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape every endpoint answers with."""
    return {"error": {"code": code, "message": message, **extra}}
