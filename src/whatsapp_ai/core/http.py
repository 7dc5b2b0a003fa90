"""HTTP plumbing shared by every router: the runtime handle, authentication, error shapes."""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from fastapi import HTTPException, Request, status
from pydantic import BaseModel, Field

from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.config import Settings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import Database, WriteBatcher, enter_system, enter_tenant
from whatsapp_ai.core.events import EventBus
from whatsapp_ai.core.memo import Memo
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.privacy import PrivacyRegistry
from whatsapp_ai.core.queue import Queue
from whatsapp_ai.core.ratelimit import SharedRateLimiter

SESSION_COOKIE = "wai_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling for a tenant: the tenant always comes from here, never from the request."""

    tenant_id: str
    key_id: str | None = None
    user_id: str | None = None
    permissions: frozenset[str] = field(default_factory=lambda: frozenset({"*"}))
    csrf_token: str | None = None

    def can(self, permission: str) -> bool:
        """Whether the role or key scopes allow ``permission`` ('area:action')."""
        area = permission.split(":", 1)[0]
        return bool({"*", permission, f"{area}:*"} & self.permissions)


@dataclass(frozen=True)
class PlatformPrincipal:
    """A platform admin: runs the service, belongs to no tenant."""

    user_id: str
    csrf_token: str | None = None


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
    limiter: SharedRateLimiter
    privacy: PrivacyRegistry
    bus: EventBus

    async def authenticate(self, token: str) -> Principal | None:
        """Resolve a bearer API key to its principal."""
        ...

    async def authenticate_session(self, token: str) -> Principal | PlatformPrincipal | None:
        """Resolve a console session cookie to its principal."""
        ...


def runtime(request: Request) -> Runtime:
    """The runtime the application was built with."""
    result: Runtime = request.app.state.runtime
    return result


def client_ip(request: Request) -> str:
    """The peer address (proxies are not trusted here)."""
    return request.client.host if request.client else "unknown"


async def throttle(request: Request, scope: str) -> None:
    """Count an attempt from this address in ``scope``; 429 once they come too fast."""
    reserved, wait = await runtime(request).limiter.reserve(
        f"{scope}:{client_ip(request)}", FAILED_AUTH_PER_S, max_wait=FAILED_AUTH_BURST
    )
    if not reserved:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed attempts; wait and try again",
            headers={"Retry-After": str(max(1, int(wait.total_seconds())))},
        )


FAILED_AUTH_PER_S = 0.2
FAILED_AUTH_BURST = timedelta(seconds=50)  # about ten failures in a row, then one every 5 s


@dataclass(frozen=True)
class Budget:
    """Attempts allowed under one key: a burst of them at once, then one per 1/per_s s."""

    per_s: float
    burst: timedelta


async def count_attempt(request: Request, keys: list[tuple[str, Budget]]) -> None:
    """Count an attempt under every key before it is checked (so parallel guesses count too);
    429 with Retry-After, and nothing counted, when any key's budget is spent."""
    limiter = runtime(request).limiter
    counted: list[tuple[str, Budget]] = []
    for key, budget in keys:
        reserved, wait = await limiter.reserve(key, budget.per_s, max_wait=budget.burst)
        if not reserved:
            await give_back(request, counted)
            retry_after = max(1, math.ceil((wait - budget.burst).total_seconds()))
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many failed attempts; wait and try again",
                headers={"Retry-After": str(retry_after)},
            )
        counted.append((key, budget))


async def give_back(request: Request, keys: list[tuple[str, Budget]]) -> None:
    """Return the attempt counted under every key: a success costs nothing."""
    limiter = runtime(request).limiter
    for key, budget in keys:
        await limiter.release(key, budget.per_s)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


async def _credential(request: Request) -> Principal | PlatformPrincipal:
    rt = runtime(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        principal = await rt.authenticate(token.strip())
        if principal is None:
            await throttle(request, "api-key")
            raise _unauthorized("unknown or revoked API key")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    found = await rt.authenticate_session(cookie)
    if found is None:
        raise _unauthorized("session expired or signed out; sign in again")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not found.csrf_token or not hmac.compare_digest(
            sent.encode(), found.csrf_token.encode()
        ):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong X-CSRF-Token")
    return found


async def require_principal(request: Request) -> Principal:
    """FastAPI dependency: a tenant's API key or console session, else 401."""
    found = await _credential(request)
    if isinstance(found, PlatformPrincipal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "platform admins have no tenant data")
    enter_tenant(found.tenant_id)  # the rest of this request sees only this tenant's rows
    return found


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """FastAPI dependency factory: a tenant principal allowed ``permission``, else 403."""

    async def dependency(request: Request) -> Principal:
        principal = await require_principal(request)
        if not principal.can(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"not allowed: {permission}")
        return principal

    return dependency


async def require_platform_admin(request: Request) -> PlatformPrincipal:
    """FastAPI dependency: a platform admin's console session, else 401/403."""
    found = await _credential(request)
    if not isinstance(found, PlatformPrincipal):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "platform admins only")
    enter_system()
    return found


class FieldError(BaseModel):
    """One value at fault: where it was sent ("body.amount", "query.cursor") and why."""

    field: str
    message: str
    type: str = "value_error"


class ErrorDetail(BaseModel):
    """What went wrong: a machine-readable code, a message for people, the fields at fault."""

    code: str = Field(examples=["validation_error"])
    message: str = Field(examples=["body.amount: Input should be greater than 0"])
    fields: list[FieldError] | None = Field(
        default=None, description="On 422: each value at fault."
    )
    feature: str | None = Field(
        default=None, description="On 402: the feature the tenant's plan does not cover."
    )
    plan: str | None = Field(
        default=None, description="On 402: the cheapest plan that covers it (null: none does)."
    )


class ErrorBody(BaseModel):
    """The one shape of every 4xx and 5xx answer."""

    error: ErrorDetail


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape every endpoint answers with."""
    return {"error": {"code": code, "message": message, **extra}}


def invalid_body(fields: list[FieldError]) -> dict[str, Any]:
    """The 422 body for values at fault (request validation and domain errors alike)."""
    summary = "; ".join(f"{f.field}: {f.message}" for f in fields)
    return error_body("validation_error", summary, fields=[f.model_dump() for f in fields])
