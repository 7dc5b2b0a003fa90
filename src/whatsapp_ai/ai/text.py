"""Kept for the agents that still import ``plain``: it is ``core.text.fold``."""

from __future__ import annotations

from whatsapp_ai.core.text import fold

plain = fold

__all__ = ["plain"]
