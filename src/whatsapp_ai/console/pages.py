"""Rendering for the console: templates, the reader's language, the signed-in operator."""

from __future__ import annotations

import hmac
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from whatsapp_ai.core.db import enter_tenant
from whatsapp_ai.core.http import SESSION_COOKIE, Principal, runtime
from whatsapp_ai.core.i18n import languages, resolve, text

PREFIX = "/console"
STATIC = f"{PREFIX}/static"
LANGUAGE_COOKIE = "wai_console_lang"

_env = Environment(
    loader=PackageLoader("whatsapp_ai.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def static_dir() -> str:
    """The folder of the console's vendored assets (shipped in the package)."""
    return str(resources.files("whatsapp_ai.console").joinpath("static"))


def language(request: Request) -> str:
    """The reader's language: their choice (cookie), else the browser's first known one."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages():
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip()
        if tag and resolve(tag) == tag.split("-")[0].lower():
            return resolve(tag)
    return resolve(None)


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """A page or fragment in the reader's language."""
    lang = language(request)

    def t(key: str, **more: Any) -> str:
        return text(lang, f"console.{key}", **more)

    html = _env.get_template(template).render(
        t=t, lang=lang, languages=languages(), prefix=PREFIX, static=STATIC, **values
    )
    return HTMLResponse(html, status_code=status_code)


async def operator(request: Request) -> Principal | None:
    """The tenant user signed in with the console session cookie, or None."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = await runtime(request).authenticate_session(cookie)
    if not isinstance(found, Principal) or found.user_id is None:
        return None
    enter_tenant(found.tenant_id)  # everything after this sees only the operator's tenant
    return found


def csrf_ok(caller: Principal, sent: str | None) -> bool:
    """Whether a form carried the session's CSRF token."""
    expected = caller.csrf_token or ""
    return bool(expected) and hmac.compare_digest((sent or "").encode(), expected.encode())
