"""Group commit of inbound messages: batched, deduplicated, and isolated from bad items."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.bootstrap import Container
from whatsapp_ai.channels import service as channels
from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.core.db import WriteBatcher


def _item(tenant_id: str, external_id: str, now: Any) -> channels.InboundItem:
    return channels.InboundItem(
        tenant_id=tenant_id,
        channel="sandbox",
        external_id=external_id,
        sender="+5511999990001",
        body=f"mensagem {external_id}",
        now=now,
    )


async def test_concurrent_submissions_share_a_batch_and_dedupe(
    container: Container, tenant: dict[str, str]
) -> None:
    now = container.clock.now()
    ids = [f"m-{n % 30}" for n in range(60)]  # every id twice
    results = await asyncio.gather(
        *(
            container.batcher.submit(channels.INBOUND_BULK, _item(tenant["id"], external, now))
            for external in ids
        )
    )
    accepted = [result for result in results if not result.duplicate]
    assert len(accepted) == 30
    assert len({result.event_id for result in accepted}) == 30
    assert sum(result.duplicate for result in results) == 30
    stats = await container.queue.stats()
    assert stats.by_status["queued"] == 30
    async with container.db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(InboundEvent))
    assert stored == 30


async def test_one_bad_item_does_not_fail_the_others(
    container: Container, tenant: dict[str, str]
) -> None:
    batcher = WriteBatcher(container.db)

    async def bulk(session: AsyncSession, items: list[str]) -> list[str]:
        if "bad" in items:
            raise ValueError("bad item")
        accepted = await channels.accept_many(
            session,
            container.queue,
            [_item(tenant["id"], item, container.clock.now()) for item in items],
        )
        return [str(result.event_id) for result in accepted]

    batcher.register("test", bulk)
    outcomes = await asyncio.gather(
        *(batcher.submit("test", item) for item in ["a", "b", "bad", "c"]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[2], ValueError)
    assert all(isinstance(outcome, str) for index, outcome in enumerate(outcomes) if index != 2)
    async with container.db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(InboundEvent))
    assert stored == 3


async def test_unknown_bulk_name_is_refused(container: Container) -> None:
    with pytest.raises(KeyError, match="no bulk writer"):
        await container.batcher.submit("nope", 1)


async def test_database_down_fails_the_whole_batch_at_once(container: Container) -> None:
    batcher = WriteBatcher(container.db)
    calls = 0

    async def down(_session: AsyncSession, items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        raise OperationalError("INSERT ...", None, ConnectionRefusedError("database is down"))

    batcher.register("down", down)
    outcomes = await asyncio.gather(
        *(batcher.submit("down", n) for n in range(20)), return_exceptions=True
    )
    assert all(isinstance(outcome, OperationalError) for outcome in outcomes)
    assert calls <= 2  # never once per item
