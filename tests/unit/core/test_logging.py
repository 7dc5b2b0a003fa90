"""Structured logging: one pipeline for structlog and the standard library, PII always redacted."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from whatsapp_ai.core.config import LogSettings
from whatsapp_ai.core.logging import bind_context, configure_logging, get_logger

EMAIL = "maria.silva@example.com"
CPF = "529.982.247-25"
PHONE = "+5511987654321"
CARD = "4111 1111 1111 1111"
PII = (EMAIL, CPF, PHONE, CARD, "52998224725", "4111111111111111")
TOKENS = ("[EMAIL]", "[CPF]", "[PHONE]", "[CARD]")
STDLIB_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put back the root handlers, uvicorn loggers and structlog config this test changes."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved_named = {
        name: (list(lg.handlers), lg.propagate, lg.level)
        for name in STDLIB_LOGGERS
        for lg in [logging.getLogger(name)]
    }
    saved_structlog = structlog.get_config()
    yield
    root.handlers, level = saved_root
    root.setLevel(level)
    for name, (handlers, propagate, named_level) in saved_named.items():
        named = logging.getLogger(name)
        named.handlers = handlers
        named.propagate = propagate
        named.setLevel(named_level)
    structlog.configure(**saved_structlog)


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = _lines(capsys)
    assert lines
    return [json.loads(line) for line in lines]  # every line must be valid JSON


def _assert_redacted(text: str, *tokens: str) -> None:
    for value in PII:
        assert value not in text, f"{value!r} leaked into {text!r}"
    for token in tokens:
        assert token in text, f"{token} missing from {text!r}"


def _log_structlog() -> None:
    get_logger("whatsapp_ai.test").info(
        f"contato {EMAIL} cpf {CPF}",
        phone=PHONE,
        card=CARD,
        nested={"emails": [EMAIL], "doc": (CPF,)},
        count=3,
    )


def _log_stdlib() -> None:
    logging.getLogger("uvicorn.error").warning(
        "cliente %s ligou de %s e pagou com %s, cpf %s", EMAIL, PHONE, CARD, CPF
    )


def test_json_lines_from_structlog_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), "test")
    _log_structlog()
    (line,) = _json_lines(capsys)
    _assert_redacted(json.dumps(line), *TOKENS)
    assert line["event"] == "contato [EMAIL] cpf [CPF]"
    assert line["phone"] == "[PHONE]"
    assert line["card"] == "[CARD]"
    assert line["nested"] == {"emails": ["[EMAIL]"], "doc": ["[CPF]"]}
    assert line["count"] == 3  # non-text values pass through unchanged
    assert line["level"] == "info"
    assert line["logger"] == "whatsapp_ai.test"
    assert line["timestamp"].endswith("Z")


def test_json_lines_from_stdlib_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), "test")
    _log_stdlib()
    (line,) = _json_lines(capsys)
    _assert_redacted(json.dumps(line), *TOKENS)
    assert line["event"] == "cliente [EMAIL] ligou de [PHONE] e pagou com [CARD], cpf [CPF]"
    assert line["level"] == "warning"
    assert line["logger"] == "uvicorn.error"


def test_both_sources_share_one_stream(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), "test")
    _log_structlog()
    _log_stdlib()
    logging.getLogger("sqlalchemy.pool").warning("connection for %s reset", EMAIL)
    lines = _json_lines(capsys)
    assert [line["logger"] for line in lines] == [
        "whatsapp_ai.test",
        "uvicorn.error",
        "sqlalchemy.pool",
    ]
    _assert_redacted(json.dumps(lines), *TOKENS)


def test_exception_tracebacks_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), "test")
    try:
        raise ValueError(f"bad input from {EMAIL} with card {CARD}")
    except ValueError:
        get_logger("whatsapp_ai.test").exception("request.failed")
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    lines = _json_lines(capsys)
    assert len(lines) == 2
    for line in lines:
        assert "ValueError: bad input from [EMAIL] with card [CARD]" in line["exception"]
    _assert_redacted(json.dumps(lines), "[EMAIL]", "[CARD]")


def test_bound_context_appears_and_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), "test")
    with bind_context(request_id="01HZX9REQ", caller=EMAIL):
        get_logger("whatsapp_ai.test").info("inside")
        logging.getLogger("uvicorn.error").info("stdlib inside")
    get_logger("whatsapp_ai.test").info("outside")
    # Other tasks of the session loop may log meanwhile; look at this test's lines only.
    ours = {"inside", "stdlib inside", "outside"}
    inside, stdlib_inside, outside = [line for line in _json_lines(capsys) if line["event"] in ours]
    assert inside["request_id"] == "01HZX9REQ"
    assert inside["caller"] == "[EMAIL]"
    assert stdlib_inside["request_id"] == "01HZX9REQ"
    assert "request_id" not in outside


def test_level_filters_both_sources(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json", level="WARNING"), "test")
    get_logger("whatsapp_ai.test").info("hidden")
    logging.getLogger("uvicorn.error").info("hidden too")
    get_logger("whatsapp_ai.test").warning("shown")
    assert [line["event"] for line in _json_lines(capsys)] == ["shown"]


def test_access_log_is_quiet_below_warning(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json", level="DEBUG"), "test")
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /healthz" 200')
    logging.getLogger("uvicorn.error").debug("debug shown")
    assert [line["event"] for line in _json_lines(capsys)] == ["debug shown"]


def test_uvicorn_handlers_are_replaced_by_the_root_one(capsys: pytest.CaptureFixture[str]) -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(logging.StreamHandler())
    uvicorn_error.propagate = False
    configure_logging(LogSettings(format="json"), "test")
    assert uvicorn_error.handlers == []
    assert uvicorn_error.propagate is True
    _log_stdlib()
    (line,) = _json_lines(capsys)  # once, through the root handler, not twice
    assert line["logger"] == "uvicorn.error"


def test_console_format_is_text_and_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="console"), "prod")
    with bind_context(request_id="01HZX9REQ"):
        _log_structlog()
        _log_stdlib()
    lines = _lines(capsys)
    assert len(lines) == 2
    for line in lines:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
        assert "01HZX9REQ" in line
        assert "\x1b[" not in line  # no colours when stderr is not a terminal
    _assert_redacted("\n".join(lines), *TOKENS)
    assert "contato [EMAIL] cpf [CPF]" in lines[0]


@pytest.mark.parametrize(("env", "is_json"), [("prod", True), ("dev", False), ("test", False)])
def test_auto_format_is_json_only_in_prod(
    capsys: pytest.CaptureFixture[str], env: str, is_json: bool
) -> None:
    configure_logging(LogSettings(format="auto"), env)
    _log_stdlib()
    (line,) = _lines(capsys)
    if is_json:
        assert json.loads(line)["logger"] == "uvicorn.error"
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    _assert_redacted(line, *TOKENS)


def test_reconfiguring_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(LogSettings(format="json"), "test")
    configure_logging(LogSettings(format="json"), "test")
    _log_structlog()
    assert len(_json_lines(capsys)) == 1
