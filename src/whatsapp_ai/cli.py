"""`whatsapp-ai`: run the platform, manage it, and chat with it like a WhatsApp user.

This module only declares the commands. Each one imports its body from `whatsapp_ai.commands`
when it runs, so `--help` and `chat` start at once instead of loading the whole application.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="WhatsApp AI assistant platform.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect jobs and replay dead letters.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
secrets_app = typer.Typer(help="Secrets stored encrypted at rest.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")
users_app = typer.Typer(help="Console users.", no_args_is_help=True)
app.add_typer(users_app, name="users")

HostOpt = Annotated[str | None, typer.Option(help="Bind address (default from settings)")]
PortOpt = Annotated[int | None, typer.Option(help="Port (default from settings)")]


@app.command()
def run(host: HostOpt = None, port: PortOpt = None) -> None:
    """API, worker and scheduler in one process (migrates first)."""
    from whatsapp_ai.commands import server

    server.run(host=host, port=port)


@app.command()
def serve(host: HostOpt = None, port: PortOpt = None) -> None:
    """API only (run workers and one scheduler separately)."""
    from whatsapp_ai.commands import server

    server.serve(host=host, port=port)


@app.command()
def worker() -> None:
    """Run jobs until SIGTERM/SIGINT; in-flight jobs finish first."""
    from whatsapp_ai.commands import server

    server.worker()


@app.command()
def scheduler() -> None:
    """Run periodic tasks (only the leader acts when several run)."""
    from whatsapp_ai.commands import server

    server.scheduler()


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    from whatsapp_ai.commands import admin

    admin.migrate()


@app.command()
def seed() -> None:
    """Create the demo tenant and its API key (kept in the data directory); safe to repeat."""
    from whatsapp_ai.commands import admin

    admin.seed()


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
    from whatsapp_ai.commands import chat as chatting

    chatting.chat(
        message=message, sender=sender, name=name, url=url, api_key=api_key, timeout=timeout
    )


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, done or dead")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Newest jobs first, with the cause of each failure."""
    from whatsapp_ai.commands import jobs

    jobs.list_jobs(status=status, limit=limit, as_json=as_json)


@jobs_app.command("retry")
def jobs_retry(
    job_ids: Annotated[list[str] | None, typer.Argument(help="Dead job ids")] = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Replay every dead letter")] = False,
) -> None:
    """Replay dead letters: they run again with fresh attempts."""
    from whatsapp_ai.commands import jobs

    jobs.retry(job_ids=job_ids, all_dead=all_dead)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt stored secrets under the first key of WHATSAPP_AI_SECURITY__SECRET_KEYS.

    Rotation: put the new key first and keep the old one after it, run this, then drop the old.
    """
    from whatsapp_ai.commands import admin

    admin.rotate_secrets()


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
    from whatsapp_ai.commands import admin

    admin.create_user(
        email=email, name=name, role=role, tenant=tenant, password_stdin=password_stdin
    )


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
    from whatsapp_ai.commands import evaluate

    evaluate.run(
        dataset=dataset,
        model=model,
        json_out=json_out,
        failures=failures,
        min_end_state=min_end_state,
    )
