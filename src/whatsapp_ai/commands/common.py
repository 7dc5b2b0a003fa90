"""What the commands share: settings, the container and the demo tenant's names."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from whatsapp_ai.core.config import Settings, SettingsError, load_settings
from whatsapp_ai.core.logging import configure_logging

if TYPE_CHECKING:
    from whatsapp_ai.bootstrap import Container

DEMO_SLUG = "demo"
DEMO_NAME = "Loja Demo"
DEMO_KEY_FILE = "demo-api-key"


def settings() -> Settings:
    """Settings from the environment, logging configured; exit 2 when they are invalid."""
    try:
        loaded = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    configure_logging(loaded.log, loaded.app.env)
    return loaded


def container() -> Container:
    """Every dependency, built from the environment's settings."""
    # Imported here: `chat` uses this module too and must not load the application.
    from whatsapp_ai.bootstrap import bootstrap

    return bootstrap(settings())


async def ensure_migrated(container: Container) -> None:
    """Bring the schema to the newest revision unless it is there already."""
    from whatsapp_ai.core.migrate import current_revision, head_revision, upgrade

    if await current_revision(container.db) != head_revision():
        await upgrade(container.db)
