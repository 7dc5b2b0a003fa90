"""Identity API: console sign-in, users, API keys, contacts, and tenants for platform admins."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from whatsapp_ai.billing import service as billing
from whatsapp_ai.core.db import enter_system
from whatsapp_ai.core.errors import ConflictError, InvalidInputError, NotFoundError
from whatsapp_ai.core.http import (
    SESSION_COOKIE,
    Budget,
    PlatformPrincipal,
    Principal,
    client_ip,
    count_attempt,
    give_back,
    require,
    require_platform_admin,
    runtime,
    throttle,
)
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from whatsapp_ai.core.privacy import DELETE_BLOBS_JOB
from whatsapp_ai.identity import service
from whatsapp_ai.identity.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ContactOut,
    ContactPatch,
    ErasureOut,
    LoginIn,
    LoginOut,
    RegisterIn,
    RegisterOut,
    TenantOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = APIRouter(prefix="/identity", tags=["identity"])
log = get_logger(__name__)
Admin = Annotated[Principal, Depends(require("users:*"))]
KeyAdmin = Annotated[Principal, Depends(require("keys:*"))]
ContactReader = Annotated[Principal, Depends(require("contacts:read"))]
ContactWriter = Annotated[Principal, Depends(require("contacts:write"))]
Platform = Annotated[PlatformPrincipal, Depends(require_platform_admin)]
Exporter = Annotated[Principal, Depends(require("privacy:export"))]
Eraser = Annotated[Principal, Depends(require("privacy:erase"))]


# Failed sign-ins are throttled per account and address, so one person's typos hold back only
# that person there; and per address across accounts, which stops password spraying. Only
# failures cost: a right password gives its attempt back, and from an address that did not
# fail it is never behind anyone else's cooldown.
LOGIN_PER_ACCOUNT = Budget(per_s=1 / 30, burst=timedelta(seconds=270))  # 10, then one per 30 s
LOGIN_PER_ADDRESS = Budget(per_s=0.2, burst=timedelta(seconds=100))  # 21, then one per 5 s


def _login_keys(request: Request, email: str) -> list[tuple[str, Budget]]:
    address = client_ip(request)
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login:{account}:{address}", LOGIN_PER_ACCOUNT),
        (f"login-any:{address}", LOGIN_PER_ADDRESS),
    ]


def _within(caller: Principal, permissions: Iterable[str]) -> None:
    """Nobody grants rights they do not have themselves (users, roles, keys)."""
    beyond = sorted(p for p in permissions if not caller.can(p))
    if beyond:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"beyond your own rights: {beyond}")


@router.post("/register", response_model=RegisterOut, status_code=status.HTTP_201_CREATED)
async def register(request: Request, body: RegisterIn) -> RegisterOut:
    """Self-service sign-up: tenant, admin and Free plan are created together or not at all."""
    rt = runtime(request)
    await throttle(request, "register")
    enter_system()  # the tenant does not exist yet
    async with rt.db.transaction() as session:
        tenant, user = await service.register_tenant(
            session,
            business_name=body.business_name,
            slug=body.slug,
            email=body.email,
            name=body.name,
            password=body.password.get_secret_value(),
            now=rt.clock.now(),
        )
        return RegisterOut(
            tenant=TenantOut.model_validate(tenant),
            user=UserOut.model_validate(user),
            plan="free",
        )


@router.post("/login", response_model=LoginOut)
async def login(request: Request, response: Response, body: LoginIn) -> LoginOut:
    """Sign in to the console: sets an HttpOnly session cookie; send the CSRF token on changes."""
    rt = runtime(request)
    now = rt.clock.now()
    enter_system()  # the e-mail says which user (and tenant); nothing is scoped yet
    # Every attempt counts until it succeeds, so a throttled client cannot keep guessing.
    keys = _login_keys(request, body.email)
    await count_attempt(request, keys)
    async with rt.db.transaction() as session:
        user = await service.check_password(
            session, email=body.email, password=body.password.get_secret_value()
        )
        if user is not None:
            token, record = await service.open_session(session, user=user, now=now)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong e-mail or password")
    await give_back(request, keys)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=rt.settings.app.env == "prod",
        path="/",
    )
    return LoginOut(
        user=UserOut.model_validate(user),
        csrf_token=record.csrf_token,
        expires_at=record.expires_at,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request) -> Response:
    """Sign out of the console (the session cookie stops working)."""
    rt = runtime(request)
    token = request.cookies.get(SESSION_COOKIE)
    enter_system()
    if token:
        async with rt.db.transaction() as session:
            await service.close_session(session, token=token, now=rt.clock.now())
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/users", response_model=Page[UserOut])
async def list_users(
    request: Request, caller: Admin, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[UserOut]:
    """The tenant's console users, oldest first."""
    async with runtime(request).db.read() as session:
        found = await service.page_users(
            session, tenant_id=caller.tenant_id, cursor=cursor, limit=limit
        )
        return Page[UserOut].of(found, UserOut.model_validate)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create_user(request: Request, caller: Admin, body: UserIn) -> UserOut:
    """Add a console user to the tenant."""
    _within(caller, service.ROLE_PERMISSIONS[body.role])
    rt = runtime(request)
    async with rt.db.transaction() as session:
        await _one_more_seat(session, caller.tenant_id, rt.clock.now())
        user = await service.create_user(
            session,
            tenant_id=caller.tenant_id,
            email=body.email,
            name=body.name,
            role=body.role,
            password=body.password.get_secret_value(),
            now=rt.clock.now(),
        )
        return UserOut.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(request: Request, caller: Admin, user_id: str, body: UserPatch) -> UserOut:
    """Change a user's role, or disable / enable them."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        user = await service.get_user(session, tenant_id=caller.tenant_id, user_id=user_id)
        if user is None:
            raise NotFoundError("user not found")
        if user.id == caller.user_id and (body.disabled or body.role not in (None, "admin")):
            raise ConflictError("you cannot demote or disable yourself")
        # Acting on someone means having at least their rights.
        _within(caller, service.ROLE_PERMISSIONS.get(user.role, frozenset({"*"})))
        if body.role is not None:
            _within(caller, service.ROLE_PERMISSIONS[body.role])
            user.role = body.role
        if body.disabled is False and user.disabled_at is not None:
            # Enabled again, the user takes a console seat again.
            await _one_more_seat(session, caller.tenant_id, rt.clock.now())
        if body.disabled is not None:
            user.disabled_at = rt.clock.now() if body.disabled else None
        return UserOut.model_validate(user)


async def _one_more_seat(session: Any, tenant_id: str, now: datetime) -> None:
    """Refuse (402) when the plan's console seats are all taken by enabled users."""
    seats = await service.list_users(session, tenant_id=tenant_id)
    await billing.check(
        session,
        tenant_id=tenant_id,
        feature=billing.CONSOLE_SEATS,
        now=now,
        amount=sum(1 for user in seats if user.disabled_at is None) + 1,
    )


@router.get("/api-keys", response_model=Page[ApiKeyOut])
async def list_api_keys(
    request: Request, caller: KeyAdmin, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[ApiKeyOut]:
    """The tenant's API keys, newest first (prefix, scopes, last use); secrets are never
    shown."""
    async with runtime(request).db.read() as session:
        found = await service.list_api_keys(
            session, tenant_id=caller.tenant_id, cursor=cursor, limit=limit
        )
        return Page[ApiKeyOut].of(found, ApiKeyOut.model_validate)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
async def create_api_key(request: Request, caller: KeyAdmin, body: ApiKeyIn) -> ApiKeyCreated:
    """Create an API key; its secret is in this answer only."""
    unknown = sorted(set(body.scopes) - service.SCOPES)
    if unknown:
        raise InvalidInputError(
            f"unknown scopes {unknown}; known: {sorted(service.SCOPES)}", field="scopes"
        )
    _within(caller, body.scopes)
    rt = runtime(request)
    async with rt.db.transaction() as session:
        key, secret = await service.create_api_key(
            session,
            tenant_id=caller.tenant_id,
            name=body.name,
            scopes=body.scopes,
            now=rt.clock.now(),
        )
        return ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=secret)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(request: Request, caller: KeyAdmin, key_id: str) -> Response:
    """Revoke an API key at once."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        target = await service.get_api_key(session, tenant_id=caller.tenant_id, key_id=key_id)
        if target is not None:
            _within(caller, target.scopes)
        key = await service.revoke_api_key(
            session, tenant_id=caller.tenant_id, key_id=key_id, now=rt.clock.now()
        )
    if key is None:
        raise NotFoundError("API key not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/contacts", response_model=Page[ContactOut])
async def list_contacts(
    request: Request, caller: ContactReader, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[ContactOut]:
    """The tenant's WhatsApp contacts, oldest first."""
    async with runtime(request).db.read() as session:
        found = await service.list_contacts(
            session, tenant_id=caller.tenant_id, cursor=cursor, limit=limit
        )
        return Page[ContactOut].of(found, ContactOut.model_validate)


@router.get("/contacts/{contact_id}", response_model=ContactOut)
async def get_contact(request: Request, caller: ContactReader, contact_id: str) -> ContactOut:
    """One contact."""
    async with runtime(request).db.read() as session:
        contact = await service.get_contact(
            session, tenant_id=caller.tenant_id, contact_id=contact_id
        )
        if contact is None:
            raise NotFoundError("contact not found")
        return ContactOut.model_validate(contact)


@router.patch("/contacts/{contact_id}", response_model=ContactOut)
async def update_contact(
    request: Request, caller: ContactWriter, contact_id: str, body: ContactPatch
) -> ContactOut:
    """Change a contact's display name, language, time zone or preferences."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        contact = await service.update_contact(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            changes=body.model_dump(exclude_unset=True),
            now=rt.clock.now(),
        )
        if contact is None:
            raise NotFoundError("contact not found")
        return ContactOut.model_validate(contact)


@router.get("/tenants", response_model=Page[TenantOut])
async def list_tenants(
    request: Request, _admin: Platform, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[TenantOut]:
    """Every tenant, oldest first (platform admins only)."""
    async with runtime(request).db.read() as session:
        found = await service.list_tenants(session, cursor=cursor, limit=limit)
        return Page[TenantOut].of(found, TenantOut.model_validate)


@router.get("/contacts/{contact_id}/export", response_model=None)
async def export_contact(
    request: Request,
    caller: Exporter,
    contact_id: str,
    files: Annotated[bool, Query(description="A zip with export.json and the files")] = False,
) -> Response:
    """Everything the platform holds about a contact, from every module (LGPD / GDPR)."""
    rt = runtime(request)
    async with rt.db.read() as session:
        contact = await service.get_contact(
            session, tenant_id=caller.tenant_id, contact_id=contact_id
        )
        if contact is None:
            raise NotFoundError("contact not found")
        data = await rt.privacy.export(session, service.contact_ref(contact))
    document = jsonable_encoder(
        {"contact_id": contact_id, "exported_at": rt.clock.now(), "data": data}
    )
    if not files:
        return JSONResponse(document)
    stored = [item for item in data["channels"]["media"] if item.get("blob_key")]
    contents = {}
    for item in stored:
        try:
            contents[f"files/{item['id']}"] = await rt.blobs.get(item["blob_key"])
        except KeyError:
            continue  # deleted meanwhile: the JSON still lists it
    archive = await asyncio.to_thread(_zip, document, contents)
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.zip"'},
    )


def _zip(document: dict[str, Any], contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json.dumps(document, ensure_ascii=False, indent=2))
        for name, content in contents.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@router.post(
    "/contacts/{contact_id}/erasure",
    response_model=ErasureOut,
    status_code=status.HTTP_201_CREATED,
)
async def erase_contact(request: Request, caller: Eraser, contact_id: str) -> ErasureOut:
    """Erase a contact from every module, files included, and answer with the receipt: the
    audit record (it keeps only ids), the rows removed per module and the files still due."""
    return await _erase(request, caller, contact_id)


@router.delete("/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_contact(request: Request, caller: Eraser, contact_id: str) -> None:
    """Erase a contact as ``POST …/erasure`` does, without the receipt."""
    await _erase(request, caller, contact_id)


async def _erase(request: Request, caller: Principal, contact_id: str) -> ErasureOut:
    rt = runtime(request)
    async with rt.db.transaction() as session:
        contact = await service.get_contact(
            session, tenant_id=caller.tenant_id, contact_id=contact_id
        )
        if contact is None:
            raise NotFoundError("contact not found")
        removed, blob_keys = await rt.privacy.erase(session, service.contact_ref(contact))
        record = await service.record_erasure(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            requested_by=caller.user_id or caller.key_id or "unknown",
            removed=removed,
            now=rt.clock.now(),
        )
        if blob_keys:
            # Committed with the erasure, so the files go even if deleting them now fails.
            await rt.queue.enqueue(
                session,
                DELETE_BLOBS_JOB,
                {"tenant_id": caller.tenant_id, "keys": blob_keys},
                idempotency_key=f"erase-files:{record.id}",
            )
    deleted = 0
    for key in blob_keys:
        try:
            deleted += await rt.blobs.delete(key)
        except OSError as exc:
            log.warning("privacy.file_delete_deferred", error=str(exc)[:200])
    return ErasureOut(
        record_id=record.id,
        removed=removed,
        files_deleted=deleted,
        files_pending=len(blob_keys) - deleted,
    )
