"""One warmed router for the whole session: the encoder takes a second or two to load."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.router import IntentRouter


@pytest.fixture(scope="session")
def router() -> IntentRouter:
    """The router over the shipped catalogue, on the process-wide encoder."""
    built = IntentRouter()
    built.warm()
    return built
