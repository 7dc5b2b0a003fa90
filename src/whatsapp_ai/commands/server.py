"""`run`, `serve`, `worker` and `scheduler`: the platform's long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import FrameType
from typing import Protocol

import typer
import uvicorn

from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.commands.common import container, ensure_migrated
from whatsapp_ai.core.logging import get_logger

log = get_logger(__name__)


class _Server(uvicorn.Server):
    """uvicorn, telling the application when shutdown starts (event streams end at once)."""

    def __init__(self, config: uvicorn.Config, container: Container) -> None:
        super().__init__(config)
        self._container = container

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        with contextlib.suppress(RuntimeError):  # no loop yet: nothing is streaming
            asyncio.get_running_loop().call_soon_threadsafe(self._container.stopping.set)
        super().handle_exit(sig, frame)


def _serve(container: Container, *, embedded: bool, host: str | None, port: int | None) -> None:
    settings = container.settings
    config = uvicorn.Config(
        create_app(container, embedded=embedded),
        host=host or settings.app.host,
        port=port or settings.app.port,
        log_config=None,
        access_log=False,
        # Proxy headers are trusted only from WHATSAPP_AI_TWILIO__TRUSTED_PROXIES, by the app.
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.queue.shutdown_timeout_s) or None,
    )
    server = _Server(config, container)
    if not embedded and settings.events.backend == "memory":
        log.warning(
            "events.memory_bus_with_separate_workers",
            hint="set WHATSAPP_AI_EVENTS__BACKEND=postgres or redis so the console sees "
            "events from worker processes",
        )

    async def main() -> None:
        await ensure_migrated(container)
        shown = f"http://{config.host}:{config.port}"
        typer.echo(f"API docs: {shown}/docs   health: {shown}/readyz   metrics: {shown}/metrics")
        if embedded:
            typer.echo(
                "Chat as a WhatsApp user:  .venv/bin/whatsapp-ai chat"
                f"{'' if config.port == 8000 else f' --url {shown}'}"
            )
        await server.serve()

    asyncio.run(main())


def run(*, host: str | None, port: int | None) -> None:
    """API, worker and scheduler in one process (migrates first)."""
    _serve(container(), embedded=True, host=host, port=port)


def serve(*, host: str | None, port: int | None) -> None:
    """API only."""
    _serve(container(), embedded=False, host=host, port=port)


class _Stoppable(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


def _run_until_signal(container: Container, build: Callable[[Container], _Stoppable]) -> None:
    """Run a loop until SIGTERM/SIGINT asks it to stop, then release the container."""

    async def main() -> None:
        runner = build(container)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        try:
            await runner.run()
        finally:
            await container.close()

    asyncio.run(main())


def worker() -> None:
    """Run jobs until SIGTERM/SIGINT; in-flight jobs finish first."""
    _run_until_signal(container(), Container.worker)


def scheduler() -> None:
    """Run periodic tasks until SIGTERM/SIGINT."""
    _run_until_signal(container(), Container.scheduler)
