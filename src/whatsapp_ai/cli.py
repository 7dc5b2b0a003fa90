"""`whatsapp-ai`: run the platform, manage it, and chat with it like a WhatsApp user."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Protocol

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.ai import settings as assistant_settings
from whatsapp_ai.app import create_app
from whatsapp_ai.billing import service as billing
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.channels.twilio import accounts as twilio_accounts
from whatsapp_ai.chat import ChatError, ChatSession
from whatsapp_ai.core.config import Settings, SettingsError, load_settings
from whatsapp_ai.core.db import enter_system
from whatsapp_ai.core.logging import configure_logging, get_logger
from whatsapp_ai.core.migrate import current_revision, head_revision, upgrade
from whatsapp_ai.evaluation import evaluate, parse_model
from whatsapp_ai.identity import service as identity
from whatsapp_ai.sales import service as sales_service

app = typer.Typer(help="WhatsApp AI assistant platform.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect jobs and replay dead letters.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
secrets_app = typer.Typer(help="Secrets stored encrypted at rest.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
users_app = typer.Typer(help="Console users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
log = get_logger(__name__)

DEMO_SLUG = "demo"
DEMO_NAME = "Loja Demo"
DEMO_KEY_FILE = "demo-api-key"


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log, settings.app.env)
    return settings


def _container() -> Container:
    return bootstrap(_settings())


async def _ensure_migrated(container: Container) -> None:
    if await current_revision(container.db) != head_revision():
        await upgrade(container.db)


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
        await _ensure_migrated(container)
        shown = f"http://{config.host}:{config.port}"
        typer.echo(f"API docs: {shown}/docs   health: {shown}/readyz   metrics: {shown}/metrics")
        if embedded:
            typer.echo(
                "Chat as a WhatsApp user:  .venv/bin/whatsapp-ai chat"
                f"{'' if config.port == 8000 else f' --url {shown}'}"
            )
        await server.serve()

    asyncio.run(main())


HostOpt = Annotated[str | None, typer.Option(help="Bind address (default from settings)")]
PortOpt = Annotated[int | None, typer.Option(help="Port (default from settings)")]


@app.command()
def run(host: HostOpt = None, port: PortOpt = None) -> None:
    """API, worker and scheduler in one process (migrates first)."""
    _serve(_container(), embedded=True, host=host, port=port)


@app.command()
def serve(host: HostOpt = None, port: PortOpt = None) -> None:
    """API only (run workers and one scheduler separately)."""
    _serve(_container(), embedded=False, host=host, port=port)


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


@app.command()
def worker() -> None:
    """Run jobs until SIGTERM/SIGINT; in-flight jobs finish first."""
    _run_until_signal(_container(), Container.worker)


@app.command()
def scheduler() -> None:
    """Run periodic tasks (only the leader acts when several run)."""
    _run_until_signal(_container(), Container.scheduler)


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    container = _container()

    async def main() -> str | None:
        try:
            await upgrade(container.db)
            return await current_revision(container.db)
        finally:
            await container.close()

    typer.echo(f"database at revision {asyncio.run(main())}")


@app.command()
def seed() -> None:
    """Create the demo tenant and its API key (kept in the data directory); safe to repeat."""
    container = _container()
    key_file = container.settings.app.data_dir / DEMO_KEY_FILE

    async def main() -> tuple[str, bool]:
        enter_system()  # the command acts for the operator of the platform
        try:
            await _ensure_migrated(container)
            now = container.clock.now()
            async with container.db.transaction() as session:
                tenant = await identity.get_tenant_by_slug(session, slug=DEMO_SLUG)
                if tenant is None:
                    tenant = await identity.create_tenant(
                        session, name=DEMO_NAME, slug=DEMO_SLUG, now=now
                    )
                    await billing.start_subscription(
                        session, tenant_id=tenant.id, plan="free", now=now
                    )
                await _connect_twilio_from_env(container, session, tenant.id)
                if key_file.exists():
                    principal = await identity.authenticate_api_key(
                        session, token=key_file.read_text().strip(), now=now
                    )
                    if principal is not None and principal.tenant_id == tenant.id:
                        return tenant.id, False
                _key, secret = await identity.create_api_key(
                    session, tenant_id=tenant.id, name="demo", now=now
                )
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secret + "\n")
            return tenant.id, True
        finally:
            await container.close()

    tenant_id, created = asyncio.run(main())
    state = "new API key written to" if created else "API key kept in"
    typer.echo(f"demo tenant '{DEMO_SLUG}' ({tenant_id}); {state} {key_file}")


async def _connect_twilio_from_env(
    container: Container, session: AsyncSession, tenant_id: str
) -> None:
    """Connect the demo tenant to a real Twilio (sandbox) account given by Twilio's env names."""
    sid = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
    token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
    number = os.environ.get("TWILIO_WHATSAPP_NUMBER", "").strip()
    if not (sid and token and number):
        return
    await twilio_accounts.upsert_account(
        session,
        container.box,
        tenant_id=tenant_id,
        account_sid=sid,
        auth_token=token,
        whatsapp_number=identity.normalize_address(number.removeprefix("whatsapp:")),
        now=container.clock.now(),
    )
    typer.echo(f"demo tenant connected to Twilio account {sid} ({number})")


def _api_key(explicit: str | None, data_dir: Path) -> str:
    if explicit:
        return explicit
    from_env = os.environ.get("WHATSAPP_AI_API_KEY")
    if from_env:
        return from_env
    key_file = data_dir / DEMO_KEY_FILE
    if key_file.exists():
        return key_file.read_text().strip()
    typer.echo(
        f"no API key: pass --api-key, set WHATSAPP_AI_API_KEY, or run `whatsapp-ai seed` "
        f"(it writes {key_file})",
        err=True,
    )
    raise typer.Exit(2)


@app.command()
def chat(
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Send one message, print the reply, exit")
    ] = None,
    sender: Annotated[
        str, typer.Option("--from", help="Your WhatsApp number (E.164)")
    ] = "+5511999990001",
    name: Annotated[str | None, typer.Option(help="Your WhatsApp profile name")] = None,
    url: Annotated[str | None, typer.Option(help="Platform URL")] = None,
    api_key: Annotated[str | None, typer.Option(help="Tenant API key")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a reply")] = 30.0,
) -> None:
    """Chat with the assistant as a WhatsApp user of the demo tenant (sandbox channel)."""
    settings = load_settings()
    base_url = url or os.environ.get("WHATSAPP_AI_URL") or f"http://127.0.0.1:{settings.app.port}"
    session = ChatSession(
        base_url=base_url,
        api_key=_api_key(api_key, settings.app.data_dir),
        sender=sender,
        profile_name=name,
        timeout_s=timeout,
    )
    try:
        if message is not None:
            for reply in asyncio.run(session.one_turn(message)):
                typer.echo(reply)
            return
        asyncio.run(session.interactive(sys.stdin, sys.stdout))
    except ChatError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from exc
    except KeyboardInterrupt:
        typer.echo("")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, done or dead")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Newest jobs first, with the cause of each failure."""
    if status not in (None, "queued", "running", "done", "dead"):
        typer.echo("--status must be one of queued, running, done, dead", err=True)
        raise typer.Exit(2)
    container = _container()

    async def main() -> None:
        try:
            jobs = await container.queue.list_jobs(status=status, limit=limit)  # type: ignore[arg-type]
        finally:
            await container.close()
        if not jobs:
            typer.echo("no jobs")
        for job in jobs:
            if as_json:
                typer.echo(json.dumps({**job.__dict__}, default=str))
                continue
            typer.echo(
                f"{job.id}  {job.status:<7} {job.kind:<18} attempts {job.attempts}/"
                f"{job.max_attempts}  created {job.created_at:%Y-%m-%d %H:%M:%S}"
            )
            if job.last_error:
                typer.echo("    " + job.last_error.strip().splitlines()[-1])

    asyncio.run(main())


@jobs_app.command("retry")
def jobs_retry(
    job_ids: Annotated[list[str] | None, typer.Argument(help="Dead job ids")] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Replay every dead letter")] = False,
) -> None:
    """Replay dead letters: they run again with fresh attempts."""
    if not job_ids and not all_dead:
        typer.echo("give job ids or --all", err=True)
        raise typer.Exit(2)
    container = _container()

    async def main() -> int:
        try:
            return await container.queue.replay(None if all_dead else list(job_ids or []))
        finally:
            await container.close()

    typer.echo(f"requeued {asyncio.run(main())} dead job(s)")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt stored secrets under the first key of WHATSAPP_AI_SECURITY__SECRET_KEYS.

    Rotation: put the new key first and keep the old one after it, run this, then drop the old.
    """
    container = _container()

    async def main() -> int:
        enter_system()  # the command acts for the operator of the platform
        try:
            async with container.db.transaction() as session:
                return (
                    await twilio_accounts.rotate_secrets(session, container.box)
                    + await sales_service.rotate_secrets(session, container.box)
                    + await assistant_settings.rotate_secrets(session, container.box)
                )
        finally:
            await container.close()

    count = asyncio.run(main())
    typer.echo(f"re-encrypted {count} stored secret(s) (Twilio, Stripe, chat-model keys)")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in e-mail")],
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[str, typer.Option(help="admin, operator, member or platform_admin")] = "admin",
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (not for platform_admin)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a console user (the password is asked for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        typer.echo("the password needs at least 12 characters", err=True)
        raise typer.Exit(2)
    if (role == identity.PLATFORM_ADMIN) == (tenant is not None):
        typer.echo("give --tenant for tenant roles, and no --tenant for platform_admin", err=True)
        raise typer.Exit(2)
    container = _container()

    async def main() -> str:
        enter_system()  # the command acts for the operator of the platform
        try:
            async with container.db.transaction() as session:
                tenant_id = None
                if tenant is not None:
                    found = await identity.get_tenant_by_slug(session, slug=tenant)
                    if found is None:
                        raise ValueError(f"no tenant with slug {tenant!r}")
                    tenant_id = found.id
                user = await identity.create_user(
                    session,
                    tenant_id=tenant_id,
                    email=email,
                    name=name,
                    role=role,
                    password=password,
                    now=container.clock.now(),
                )
                return user.id
        finally:
            await container.close()

    try:
        user_id = asyncio.run(main())
    except (ValueError, identity.DuplicateEmailError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"user {email} ({role}) created: {user_id}")


@app.command("eval")
def eval_(
    dataset: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSONL examples")],
    model: Annotated[
        str,
        typer.Option(
            help='"offline", or provider:model[@base_url] (openai, groq, gemini, '
            "openai_compatible); the key comes from OPENAI_API_KEY, GROQ_API_KEY or GOOGLE_API_KEY"
        ),
    ] = "offline",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write outcomes here")] = None,
    failures: Annotated[int, typer.Option(help="How many failed examples to show")] = 15,
    min_end_state: Annotated[
        float | None, typer.Option(help="Exit 1 when end-state correctness is below this")
    ] = None,
) -> None:
    """Run a labelled set through the real pipeline and print routing, tool, argument and
    end-state scores (on a fresh embedded database; nothing else is touched)."""
    with tempfile.TemporaryDirectory(prefix="wai-eval-") as folder:
        try:
            settings = load_settings(
                app={"env": "test", "data_dir": folder},
                database={"url": f"sqlite+aiosqlite:///{folder}/eval.db"},
                log={"level": "WARNING"},
                ai={"providers": parse_model(model, dict(os.environ))},
            )
        except (SettingsError, ValueError) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        configure_logging(settings.log, settings.app.env)
        report = asyncio.run(evaluate(dataset, settings))
    typer.echo(f"model: {model}   examples: {len(report.outcomes)}")
    typer.echo(report.table())
    failed = [o for o in report.outcomes if o.problems]
    for outcome in failed[:failures]:
        typer.echo(f"✗ {outcome.id}: {'; '.join(outcome.problems)[:300]}")
    if json_out is not None:
        json_out.write_text(
            json.dumps([o.__dict__ for o in report.outcomes], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    if min_end_state is not None and report.rate("end_state") < min_end_state:
        raise typer.Exit(1)
