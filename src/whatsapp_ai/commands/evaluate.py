"""`eval`: a labelled set through the real pipeline on a fresh embedded database."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

import typer

from whatsapp_ai.core.config import SettingsError, load_settings
from whatsapp_ai.core.logging import configure_logging
from whatsapp_ai.evaluation import evaluate, parse_model


def run(
    *,
    dataset: Path,
    model: str,
    json_out: Path | None,
    failures: int,
    min_end_state: float | None,
) -> None:
    """Print the scores and the first failures; exit 1 below ``min_end_state``."""
    with tempfile.TemporaryDirectory(prefix="wai-eval-") as folder:
        try:
            settings = load_settings(
                app={"env": "test", "data_dir": folder},
                database={"url": f"sqlite+aiosqlite:///{folder}/eval.db"},
                log={"level": "WARNING"},
                # One message at a time, each answered before the next, on a fixed clock:
                # a burst window would only move the moment of each reply.
                conversation={"burst_window_ms": 0},
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
