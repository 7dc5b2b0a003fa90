"""The command line loads no part of the application until a command that needs it runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import whatsapp_ai

SRC = Path(whatsapp_ai.__file__).resolve().parents[1]
# The application's weight: none of it may load for `--help` or `chat`.
HEAVY = ("fastapi", "sqlalchemy", "langchain_core", "twilio", "numpy", "uvicorn", "alembic")


def _loaded_after(code: str) -> list[str]:
    """The heavy packages in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = json.loads(done.stdout.splitlines()[-1])
    return [m for m in modules if m.split(".")[0] in HEAVY]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_importing_the_cli_loads_none_of_the_application() -> None:
    assert _loaded_after("import whatsapp_ai.cli") == []


@pytest.mark.parametrize("args", [["--help"], ["chat", "--help"], ["jobs", "list", "--help"]])
def test_help_loads_none_of_the_application(args: list[str]) -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from whatsapp_ai.cli import app\n"
        f"assert CliRunner().invoke(app, {args!r}).exit_code == 0\n"
    )
    assert _loaded_after(code) == []


def test_chat_loads_only_the_chat_client() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    args = ["chat", "-m", "oi", "--url", url, "--api-key", "wai_x_y"]
    code = (
        "from typer.testing import CliRunner\n"
        "from whatsapp_ai.cli import app\n"
        f"result = CliRunner().invoke(app, {args!r})\n"
        "assert result.exit_code == 3, result.output\n"  # nobody listens: cannot reach
    )
    assert _loaded_after(code) == []
