"""Structured logging (structlog): console in dev, JSON in prod, PII redacted everywhere."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from structlog.typing import Processor

from whatsapp_ai.core.config import LogSettings
from whatsapp_ai.core.pii import redact_value

get_logger = structlog.stdlib.get_logger
bind_context = structlog.contextvars.bound_contextvars


def redact_event(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
    """Processor: redact PII in the message and every field, whatever the environment."""
    for key, value in event_dict.items():
        event_dict[key] = redact_value(value)
    return event_dict


def _renderer(settings: LogSettings, env: str) -> Processor:
    use_json = settings.format == "json" or (settings.format == "auto" and env == "prod")
    if use_json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def configure_logging(settings: LogSettings, env: str) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) through one pipeline."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_event,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _renderer(settings, env),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers = []
        named.propagate = True
        named.disabled = False
        named.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The Twilio SDK logs every request and response at INFO.
    logging.getLogger("twilio").setLevel(logging.WARNING)
