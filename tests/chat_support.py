"""A contact's conversation with the assistant engine on a real database, one message at a
time (30 s apart), with the contact's finance entries read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from whatsapp_ai.ai.agents.engine import AssistantEngine
from whatsapp_ai.ai.service import TurnInput
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.conversation import service as conversations
from whatsapp_ai.conversation.models import Conversation
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.finance import service as finance
from whatsapp_ai.identity import service as identity

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # Wednesday 10:00 in São Paulo


class Chat:
    """One contact's conversation with the assistant."""

    def __init__(self, container: Container, engine: AssistantEngine, tenant_id: str) -> None:
        self.container = container
        self.engine = engine
        self.tenant_id = tenant_id
        self.contact_id = ""
        self.conversation_id = ""
        self.now = NOW
        self.sent = 0

    async def open(self, address: str, name: str = "Ana") -> Chat:
        async with self.container.db.transaction() as session:
            contact = await identity.get_or_create_contact(
                session, tenant_id=self.tenant_id, address=address, profile_name=name, now=NOW
            )
            self.contact_id = contact.id
        await self.new_conversation()
        return self

    async def new_conversation(self) -> None:
        """End the open conversation (if any) and start the next one."""
        with tenant_scope(self.tenant_id):
            async with self.container.db.transaction() as session:
                if self.conversation_id:
                    ended = await session.get(Conversation, self.conversation_id)
                    assert ended is not None
                    ended.status = "closed"
                    await session.flush()
                opened, _ = await conversations.get_or_open(
                    session,
                    tenant_id=self.tenant_id,
                    contact_id=self.contact_id,
                    channel="sandbox",
                    now=self.now,
                )
                self.conversation_id = opened.id

    async def say(self, text: str) -> str:
        self.sent += 1
        self.now += timedelta(seconds=30)
        turn = TurnInput(
            tenant_id=self.tenant_id,
            tenant_name="Padaria Teste",
            contact_id=self.contact_id,
            contact_name="Ana",
            conversation_id=self.conversation_id,
            text=text,
            message_id=f"{self.conversation_id[-8:]}-{self.sent}",
            now=self.now,
            contact_timezone="America/Sao_Paulo",
        )
        reply = await self.engine.reply(turn)
        return reply.text

    async def entries(self) -> list[tuple[str, str, Decimal, str, str | None]]:
        with tenant_scope(self.tenant_id):
            async with self.container.db.read() as session:
                page = await finance.list_entries(
                    session, tenant_id=self.tenant_id, contact_id=self.contact_id
                )
        return [
            (e.kind, e.category, e.amount, str(e.occurred_on), e.description) for e in page.items
        ]
