"""Every turn gives its database connections back to the pool (none is left to the garbage
collector), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import InvalidRequestError

from tests.conftest import auth, drain, make_settings
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.conversation.models import Message
from whatsapp_ai.core.db import Database
from whatsapp_ai.evaluation import Evaluator, load_dataset

MINI = Path(__file__).parent.parent / "fixtures" / "eval_mini.jsonl"
MESSAGES = [
    "gastei 42,50 no mercado hoje",
    "me lembra de pagar a luz amanhã às 9h",
    "quanto gastei esse mês?",
    "oi, tudo bem?",
]


def _checked_out(db: Database) -> int:
    return int(db.engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_turns_of_the_assistant_return_every_connection(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    for n, body in enumerate(MESSAGES):
        response = await client.post(
            "/channels/sandbox/messages",
            json={"from": "+5511999990001", "text": body, "id": f"conn-{n}"},
            headers=auth(tenant["key"]),
        )
        assert response.status_code == 202, response.text
        await drain(container)
        assert _checked_out(container.db) == 0, f"after the turn of {body!r}"
    async with container.db.read() as session:
        replies = list(await session.scalars(select(Message).where(Message.author == "assistant")))
    assert len(replies) == len(MESSAGES)
    assert _checked_out(container.db) == 0


async def test_a_session_used_after_its_block_fails_instead_of_leaking(
    container: Container,
) -> None:
    async with container.db.read() as session:
        await session.execute(text("SELECT 1"))
    with pytest.raises(InvalidRequestError):
        await session.execute(text("SELECT 1"))
    async with container.db.transaction() as written:
        await written.execute(text("SELECT 1"))
    with pytest.raises(InvalidRequestError):
        await written.execute(text("SELECT 1"))
    assert _checked_out(container.db) == 0


async def test_the_eval_returns_every_connection(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/eval.db", tmp_path)
    evaluator = Evaluator(settings)
    try:
        await evaluator.prepare()
        for example in load_dataset(MINI):
            outcome = await evaluator.run_one(example)
            assert outcome.reply, outcome.id
            assert _checked_out(evaluator.container.db) == 0, outcome.id
    finally:
        await evaluator.close()
