"""`jobs list` and `jobs retry`: inspect the queue and replay dead letters."""

from __future__ import annotations

import asyncio
import json

import typer

from whatsapp_ai.commands.common import container


def list_jobs(*, status: str | None, limit: int, as_json: bool) -> None:
    """Newest jobs first, with the cause of each failure."""
    if status not in (None, "queued", "running", "done", "dead"):
        typer.echo("--status must be one of queued, running, done, dead", err=True)
        raise typer.Exit(2)
    built = container()

    async def main() -> None:
        try:
            jobs = await built.queue.list_jobs(status=status, limit=limit)  # type: ignore[arg-type]
        finally:
            await built.close()
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


def retry(*, job_ids: list[str] | None, all_dead: bool) -> None:
    """Replay dead letters: they run again with fresh attempts."""
    if not job_ids and not all_dead:
        typer.echo("give job ids or --all", err=True)
        raise typer.Exit(2)
    built = container()

    async def main() -> int:
        try:
            return await built.queue.replay(None if all_dead else list(job_ids or []))
        finally:
            await built.close()

    typer.echo(f"requeued {asyncio.run(main())} dead job(s)")
