"""FastAPI application factory: middleware, error mapping, health, metrics, module routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from whatsapp_ai import __version__
from whatsapp_ai.ai.api import router as assistant_router
from whatsapp_ai.billing import service as billing
from whatsapp_ai.billing.api import router as billing_router
from whatsapp_ai.billing.errors import PaymentRequiredError
from whatsapp_ai.billing.stripe_api import router as billing_stripe_router
from whatsapp_ai.channels.api import router as media_router
from whatsapp_ai.channels.sandbox.api import router as sandbox_router
from whatsapp_ai.channels.twilio.api import router as twilio_router
from whatsapp_ai.console import pages as console_pages
from whatsapp_ai.console.views import router as console_router
from whatsapp_ai.conversation.api import router as conversation_router
from whatsapp_ai.conversation.api import settings_router as conversation_settings_router
from whatsapp_ai.core.db import is_unavailable, unscoped
from whatsapp_ai.core.errors import DomainError
from whatsapp_ai.core.events import Event
from whatsapp_ai.core.http import ErrorBody, FieldError, error_body, invalid_body, runtime
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.inputs import plain_query_and_path
from whatsapp_ai.core.logging import bind_context, get_logger
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.migrate import current_revision, head_revision
from whatsapp_ai.finance.api import router as finance_router
from whatsapp_ai.identity.api import router as identity_router
from whatsapp_ai.knowledge.api import router as knowledge_router
from whatsapp_ai.relationships.api import router as relationships_router
from whatsapp_ai.sales.api import router as sales_router
from whatsapp_ai.sales.payments_api import router as sales_payments_router

if TYPE_CHECKING:
    from whatsapp_ai.bootstrap import Container

log = get_logger(__name__)


class RequestContextMiddleware:
    """Request id on every log line and response, latency by route template, body size cap."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_body_bytes: int,
        upload_paths: tuple[str, ...] = (),
        max_upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        # File uploads (documents) may be larger than every other request.
        self.upload_paths = upload_paths
        self.max_upload_bytes = max(max_upload_bytes, max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or new_id()
        started = time.perf_counter()
        status_code = 500
        uploading = scope["method"] == "POST" and scope["path"] in self.upload_paths
        cap = self.max_upload_bytes if uploading else self.max_body_bytes
        too_large = f"request body over {cap} bytes"
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # FastAPI re-raises its own HTTPException from the body reader as is.
                    raise HTTPException(413, too_large)
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        # A request's tenant scope (set once its credential is known) ends with the request.
        with bind_context(request_id=request_id), unscoped():
            try:
                declared = headers.get(b"content-length", b"")
                if declared.isdigit() and int(declared) > cap:
                    status_code = 413
                    response = JSONResponse(
                        error_body("body_too_large", too_large),
                        status_code=413,
                        headers={"x-request-id": request_id},
                    )
                    await response(scope, receive, send)
                    return
                await self.app(scope, limited_receive, send_with_id)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self.metrics.http_latency.labels(
                    scope["method"], template, str(status_code)
                ).observe(time.perf_counter() - started)


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    402: "payment_required",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}
UNAVAILABLE_ERRORS = (DBAPIError, SQLAlchemyTimeoutError, OSError)


def _is_bad_data(exc: Exception) -> bool:
    """PostgreSQL's data exceptions (SQLSTATE class 22: NUL bytes, out-of-range values)."""
    if isinstance(exc, DataError):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


def _sent_as(request: Request, field: str) -> str:
    """Where a domain error's field was sent: the query of a read, else the body."""
    if "." in field:
        return field
    where = "query" if request.method in {"GET", "HEAD", "DELETE"} else "body"
    return f"{where}.{field}"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(ERROR_CODES.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            FieldError(
                field=".".join(str(part) for part in error["loc"]),
                message=error["msg"],
                type=error["type"],
            )
            for error in exc.errors()
        ]
        return JSONResponse(invalid_body(fields), status_code=422)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        if exc.status == 422:
            field = _sent_as(request, exc.field or "request")
            return JSONResponse(invalid_body([FieldError(field=field, message=exc.message)]), 422)
        extra: dict[str, Any] = getattr(exc, "extra", {})
        if isinstance(exc, PaymentRequiredError) and exc.tenant_id:
            await _tell_operators(request, exc)
        return JSONResponse(error_body(exc.code, exc.message, **extra), status_code=exc.status)

    async def _tell_operators(request: Request, exc: PaymentRequiredError) -> None:
        """The tenant's operators see that the plan refused a request (as they do in chat)."""
        data = {"feature": exc.feature, "source": "api", "route": request.url.path}
        try:
            bus = request.app.state.runtime.bus
            await bus.publish(Event(str(exc.tenant_id), billing.BLOCKED_EVENT, data))
        except Exception as failed:  # the console misses a live update; the 402 says it all
            log.warning("billing.event_failed", error=repr(failed)[:200])

    async def _bad_data(_request: Request, exc: Exception) -> JSONResponse:
        log.info("request.bad_data", error=str(exc)[:300])
        return JSONResponse(
            error_body("invalid_input", "the input has characters or values that cannot be stored"),
            status_code=422,
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        if _is_bad_data(exc):
            return await _bad_data(request, exc)
        if not is_unavailable(exc):
            raise exc
        log.warning("database.unavailable", error=str(exc)[:500])
        return JSONResponse(
            error_body(
                "service_unavailable",
                "the database is unavailable; nothing was stored, retry later",
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    # Registered per class so they run inside the request middleware (request id, metrics).
    for error_class in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_class, _unavailable)
    # PostgreSQL refuses NUL characters and out-of-range values the request models let through.
    app.add_exception_handler(DataError, _bad_data)


def _install_openapi(app: FastAPI) -> None:
    """Document every error answer with the one body the handlers above send."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorBody"] = body
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if code[0] in "45":
                        response["content"] = error
                        if code == "422":
                            response["description"] = "Values at fault, each named in `fields`"
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    async def readyz(request: Request) -> JSONResponse:
        """Ready: database reachable, migrations at head, queue reachable."""
        rt = runtime(request)
        checks: dict[str, str] = {}
        try:
            revision = await asyncio.wait_for(current_revision(rt.db), 5)
            head = request.app.state.migration_head
            checks["database"] = "ok"
            checks["migrations"] = "ok" if revision == head else f"at {revision}, head is {head}"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
            checks["migrations"] = "unknown"
        try:
            await asyncio.wait_for(rt.queue.ping(), 5)
            checks["queue"] = "ok"
        except Exception as exc:
            checks["queue"] = f"unreachable: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus exposition."""
        rt = runtime(request)
        with contextlib.suppress(Exception):
            stats = await rt.queue.stats()
            for status_name, count in stats.by_status.items():
                rt.metrics.queue_depth.labels(status_name).set(count)
            rt.metrics.queue_oldest_age.set(stats.oldest_ready_age_s)
        return Response(rt.metrics.render(), media_type="text/plain; version=0.0.4")


DOCS_ASSETS = "/docs-assets"


def _install_console(app: FastAPI) -> None:
    """The operator console and its assets, shipped in the package (no CDN)."""
    app.mount(
        console_pages.STATIC, StaticFiles(directory=console_pages.static_dir()), name="console"
    )
    app.include_router(console_router)


def _install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc on assets shipped in the fastapi-offline package, no CDN."""
    app.mount(
        DOCS_ASSETS,
        StaticFiles(packages=[("fastapi_offline", "static")]),
        name="docs-assets",
    )
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            # Swagger UI would otherwise send the spec's URL to its public validator.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def create_app(container: Container, *, embedded: bool = False) -> FastAPI:
    """The HTTP application; ``embedded`` also runs the worker and scheduler in this process."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        background: list[asyncio.Task[Any]] = []
        worker = scheduler = None
        if embedded:
            worker, scheduler = container.worker(), container.scheduler()
            background = [asyncio.create_task(worker.run()), asyncio.create_task(scheduler.run())]
        # Start-up objects live as long as the process: keep them out of the collector's scans
        # so full collections stay short under load (tail latency).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if worker is not None and scheduler is not None:
                worker.stop()
                scheduler.stop()
                await asyncio.gather(*background, return_exceptions=True)
            await container.close()

    app = FastAPI(
        title="WhatsApp AI assistant platform",
        version=__version__,
        lifespan=lifespan,
        # Served by _install_docs from packaged files: the default pages load them from a CDN.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(plain_query_and_path)],
    )
    app.state.runtime = container
    app.state.migration_head = head_revision()
    app.add_middleware(
        RequestContextMiddleware,
        metrics=container.metrics,
        max_body_bytes=container.settings.app.max_body_bytes,
        upload_paths=("/knowledge/documents",),
        max_upload_bytes=container.settings.app.max_upload_bytes,
    )
    _install_error_handlers(app)
    _install_openapi(app)
    _install_health(app)
    _install_docs(app)
    if container.settings.sandbox.enabled:
        app.include_router(sandbox_router)
    app.include_router(twilio_router)
    app.include_router(media_router)
    if not container.settings.twilio.validate_signature:
        log.warning(
            "twilio.signature_validation_off",
            detail="WHATSAPP_AI_TWILIO__VALIDATE_SIGNATURE=false: anyone can post fake messages",
        )
    app.include_router(conversation_router)
    app.include_router(assistant_router)
    app.include_router(conversation_settings_router)
    app.include_router(finance_router)
    app.include_router(relationships_router)
    app.include_router(knowledge_router)
    app.include_router(sales_router)
    app.include_router(sales_payments_router)
    app.include_router(identity_router)
    app.include_router(billing_router)
    app.include_router(billing_stripe_router)
    _install_console(app)
    return app
