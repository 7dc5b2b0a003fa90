"""Console routes: sign-in, the inbox, one conversation and the operator's actions on it.

Reads go through the domains' services; actions run the same handlers as the REST API, so
the handoff rules, billing gate and outbound path are one and the same."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import AfterValidator, SecretStr

from whatsapp_ai.console import inbox
from whatsapp_ai.console.pages import (
    LANGUAGE_COOKIE,
    PREFIX,
    csrf_ok,
    language,
    operator,
    render,
)
from whatsapp_ai.conversation import api as conversations
from whatsapp_ai.conversation.schemas import Action, AssignIn, ReplyIn
from whatsapp_ai.core.db import enter_system
from whatsapp_ai.core.errors import DomainError
from whatsapp_ai.core.http import SESSION_COOKIE, Principal, runtime
from whatsapp_ai.core.i18n import catalogue, languages
from whatsapp_ai.core.inputs import PlainText, check_text
from whatsapp_ai.identity import api as identity_api
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.schemas import LoginIn

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ACTIONS = {
    "take": conversations.take,
    "release": conversations.release,
    "return": conversations.return_to_assistant,
    "close": conversations.close,
}
# Optional, so the form's fields keep their text check in their type (a missing one is "").
Text = Annotated[PlainText | None, Form(max_length=4096)]
# Replies keep their new lines and tabs, like every free text of the API.
_Free = Annotated[str, AfterValidator(partial(check_text, free_text=True))]
FreeText = Annotated[_Free | None, Form(max_length=4096)]
Token = Annotated[PlainText | None, Form(max_length=200)]


def _to(path: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}{path}", status_code=status.HTTP_303_SEE_OTHER)


def _error_key(request: Request, code: str) -> str:
    key = f"error.{code}"
    return key if f"console.{key}" in catalogue(language(request)) else "error.generic"


@router.get("")
async def home() -> RedirectResponse:
    """The console starts at the inbox."""
    return _to("/inbox")


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html")


@router.post("/login", response_model=None)
async def login(request: Request, email: Text = None, password: Text = None) -> Response:
    """Sign in with the console session (same rules and throttling as /identity/login)."""
    answer = Response()
    try:
        body = LoginIn(email=email or "", password=SecretStr(password or ""))
        await identity_api.login(request, answer, body)
    except HTTPException as exc:
        key = "error.too_many_attempts" if exc.status_code == 429 else "error.login_failed"
        return render(request, "login.html", exc.status_code, error=key, email=email)
    except ValueError:
        return render(request, "login.html", 422, error="error.login_failed", email=email)
    done = _to("/inbox")
    for name, value in answer.raw_headers:
        if name == b"set-cookie":
            done.raw_headers.append((name, value))
    return done


@router.post("/logout", response_model=None)
async def logout(request: Request, csrf: Token = None) -> Response:
    """Sign out and go back to the sign-in form."""
    caller = await operator(request)
    if caller is not None and csrf_ok(caller, csrf):
        token = request.cookies.get(SESSION_COOKIE, "")
        rt = runtime(request)
        enter_system()
        async with rt.db.transaction() as session:
            await identity.close_session(session, token=token, now=rt.clock.now())
    done = _to("/login")
    done.delete_cookie(SESSION_COOKIE, path="/")
    return done


@router.post("/language")
async def choose_language(
    request: Request, lang: Annotated[PlainText | None, Form(max_length=8)] = None
) -> RedirectResponse:
    """Keep the reader's choice of language."""
    back = request.headers.get("referer", "")
    done = _to("/inbox")
    if back.startswith(str(request.base_url).rstrip("/") + PREFIX):
        done.headers["location"] = back
    if lang in languages():
        done.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax", path=PREFIX)
    return done


@router.get("/inbox", response_model=None)
async def inbox_page(request: Request, view: str = "open", q: str = "") -> Response:
    """The inbox: conversations by filter, updated live."""
    caller = await operator(request)
    if caller is None:
        return _to("/login")
    rows = await inbox.rows(request, caller, view=view, q=q)
    return render(
        request, "inbox.html", caller=caller, rows=rows, view=view, q=q, views=inbox.VIEWS
    )


@router.get("/inbox/rows", response_model=None)
async def inbox_rows(request: Request, view: str = "open", q: str = "") -> Response:
    """The inbox's list alone (refreshed by the page when events arrive)."""
    caller = await operator(request)
    if caller is None:
        return Response(status_code=status.HTTP_401_UNAUTHORIZED)
    rows = await inbox.rows(request, caller, view=view, q=q)
    return render(request, "_rows.html", rows=rows)


@router.get("/conversations/{conversation_id}", response_model=None)
async def conversation_page(request: Request, conversation_id: str) -> Response:
    """One conversation: its messages and what the operator can do with it."""
    caller = await operator(request)
    if caller is None:
        return _to("/login")
    return await _conversation(request, caller, conversation_id)


@router.get("/conversations/{conversation_id}/messages", response_model=None)
async def messages_fragment(request: Request, conversation_id: str) -> Response:
    """The messages alone (refreshed by the page when events arrive)."""
    caller = await operator(request)
    if caller is None:
        return Response(status_code=status.HTTP_401_UNAUTHORIZED)
    found = await inbox.one(request, caller, conversation_id)
    if found is None:
        return render(request, "missing.html", 404)
    return render(request, "_messages.html", messages=found.messages)


@router.post("/conversations/{conversation_id}/reply", response_model=None)
async def reply(
    request: Request,
    conversation_id: str,
    body: FreeText = None,
    csrf: Token = None,
    client_key: Annotated[PlainText | None, Form(max_length=100)] = None,
) -> Response:
    """Send the operator's message through the outbound path."""
    caller = await operator(request)
    if caller is None:
        return _to("/login")
    if not csrf_ok(caller, csrf):
        return await _conversation(request, caller, conversation_id, "error.csrf", 403)
    try:
        message = ReplyIn(body=body or "", client_key=client_key or None)
    except ValueError:
        return await _conversation(request, caller, conversation_id, "error.empty_reply", 422)
    try:
        await conversations.reply(request, caller, conversation_id, message, None)
    except DomainError as exc:
        key = _error_key(request, exc.code)
        return await _conversation(request, caller, conversation_id, key, exc.status)
    return _to(f"/conversations/{conversation_id}")


@router.post("/conversations/{conversation_id}/assign", response_model=None)
async def assign(
    request: Request,
    conversation_id: str,
    csrf: Token = None,
    version: Annotated[int | None, Form()] = None,
    operator_id: Annotated[PlainText | None, Form(max_length=40)] = None,
) -> Response:
    """Give the conversation to a chosen operator, or to the next free one."""
    caller = await operator(request)
    if caller is None:
        return _to("/login")
    if not csrf_ok(caller, csrf):
        return await _conversation(request, caller, conversation_id, "error.csrf", 403)
    try:
        body = AssignIn(version=version, operator_id=operator_id or None)
        await conversations.assign(request, caller, conversation_id, body)
    except DomainError as exc:
        key = _error_key(request, exc.code)
        return await _conversation(request, caller, conversation_id, key, exc.status)
    return _to(f"/conversations/{conversation_id}")


@router.post("/conversations/{conversation_id}/{action}", response_model=None)
async def act(
    request: Request,
    conversation_id: str,
    action: str,
    csrf: Token = None,
    version: Annotated[int | None, Form()] = None,
) -> Response:
    """Take, release, return to the assistant or close (at the version the operator saw)."""
    caller = await operator(request)
    if caller is None:
        return _to("/login")
    handler = ACTIONS.get(action)
    if handler is None:
        return render(request, "missing.html", 404)
    if not csrf_ok(caller, csrf):
        return await _conversation(request, caller, conversation_id, "error.csrf", 403)
    try:
        await handler(request, caller, conversation_id, Action(version=version))
    except DomainError as exc:
        key = _error_key(request, exc.code)
        return await _conversation(request, caller, conversation_id, key, exc.status)
    return _to(f"/conversations/{conversation_id}")


async def _conversation(
    request: Request,
    caller: Principal,
    conversation_id: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    found = await inbox.one(request, caller, conversation_id)
    if found is None:
        return render(request, "missing.html", 404)
    operators = await conversations.list_operators(request, caller)
    return render(
        request,
        "conversation.html",
        status_code,
        caller=caller,
        operators=operators,
        item=found,
        messages=found.messages,
        error=error,
    )
