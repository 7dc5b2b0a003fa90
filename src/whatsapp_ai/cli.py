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
plans_app = typer.Typer(help="Plans and tenants' plans (platform operator).", no_args_is_help=True)
app.add_typer(plans_app, name="plans")

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


FeatureOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--feature",
        help="key=value, repeatable: true/false for on/off, a number or 'unlimited' for amounts",
    ),
]


@plans_app.command("list")
def plans_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Every plan with its features, cheapest first."""
    from whatsapp_ai.commands import plans

    plans.list_plans(as_json=as_json)


@plans_app.command("create")
def plans_create(
    code: Annotated[str, typer.Argument(help="Plan code (lowercase)")],
    name: Annotated[str, typer.Option(help="Name shown to tenants")],
    price_cents: Annotated[int, typer.Option(help="Price per period, in cents")] = 0,
    currency: Annotated[str, typer.Option(help="ISO currency")] = "usd",
    period: Annotated[str, typer.Option(help="month or year")] = "month",
    overage: Annotated[bool, typer.Option(help="Usage may go past quotas (billed)")] = False,
    feature: FeatureOpt = None,
) -> None:
    """Add a plan (features not given are off)."""
    from whatsapp_ai.commands import plans

    plans.create_plan(
        code=code,
        name=name,
        price_cents=price_cents,
        currency=currency,
        period=period,
        allows_overage=overage,
        features=feature or [],
    )


@plans_app.command("change")
def plans_change(
    code: Annotated[str, typer.Argument(help="Plan code")],
    name: Annotated[str | None, typer.Option(help="Name shown to tenants")] = None,
    price_cents: Annotated[int | None, typer.Option(help="Price per period, in cents")] = None,
    period: Annotated[str | None, typer.Option(help="month or year")] = None,
    overage: Annotated[bool | None, typer.Option(help="Usage may go past quotas")] = None,
    feature: FeatureOpt = None,
) -> None:
    """Change a plan; features given are set, the others kept."""
    from whatsapp_ai.commands import plans

    plans.change_plan(
        code=code,
        changes={
            "name": name,
            "price_cents": price_cents,
            "period": period,
            "allows_overage": overage,
        },
        features=feature or [],
    )


@plans_app.command("assign")
def plans_assign(
    tenant: Annotated[str, typer.Argument(help="Tenant slug")],
    plan: Annotated[str, typer.Argument(help="Plan code")],
    status: Annotated[str, typer.Option(help="active, trialing, past_due, paused, canceled")] = (
        "active"
    ),
    reason: Annotated[str, typer.Option(help="Kept in the audit record")] = "",
) -> None:
    """Put a tenant on a plan (audited)."""
    from whatsapp_ai.commands import plans

    plans.assign(tenant=tenant, plan=plan, status=status, reason=reason)


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
