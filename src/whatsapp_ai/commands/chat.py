"""`chat`: talk to the platform as a WhatsApp user; loads nothing of the application."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import typer

from whatsapp_ai.chat import ChatError, ChatSession
from whatsapp_ai.commands.common import DEMO_KEY_FILE
from whatsapp_ai.core.config import load_settings


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


def chat(
    *,
    message: str | None,
    sender: str,
    name: str | None,
    url: str | None,
    api_key: str | None,
    timeout: float,
) -> None:
    """One message and its reply, or an interactive session on the terminal."""
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
