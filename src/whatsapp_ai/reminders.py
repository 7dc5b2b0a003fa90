"""Sending the contacts' reminders on WhatsApp at their time (a scheduler task).

Each due reminder is claimed, written into the contact's conversation (a new one, continuing
the last, when none is open) and queued for delivery in one transaction, so a crash never sends
it twice nor loses it. Outside the 24-hour window the channel sends the tenant's template.
"""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.conversation.lifecycle import Lifecycle
from whatsapp_ai.core import i18n
from whatsapp_ai.core.db import Database, system_scope, tenant_scope
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.relationships import service as crm

log = get_logger(__name__)


@dataclass
class ReminderSender:
    """The sweep of due reminders."""

    db: Database
    lifecycle: Lifecycle
    default_channel: str
    batch: int = 200

    async def sweep(self) -> int:
        """Send every due reminder; how many went out."""
        now = self.lifecycle.clock.now()
        with system_scope():
            async with self.db.read() as session:
                due = await crm.due_reminders(session, now=now, limit=self.batch)
        sent = 0
        for tenant_id, reminder_id in due:
            with tenant_scope(tenant_id):
                try:
                    sent += await self._send(tenant_id, reminder_id)
                except Exception:
                    log.exception("reminder.send_failed", reminder_id=reminder_id)
        return sent

    async def _send(self, tenant_id: str, reminder_id: str) -> int:
        now = self.lifecycle.clock.now()
        async with self.db.transaction() as session:
            reminder = await crm.claim_due(
                session, tenant_id=tenant_id, reminder_id=reminder_id, now=now
            )
            if reminder is None:
                return 0
            channel = await conversation.latest_channel(
                session, tenant_id=tenant_id, contact_id=reminder.contact_id
            )
            thread, opened = await conversation.get_or_open(
                session,
                tenant_id=tenant_id,
                contact_id=reminder.contact_id,
                channel=channel or self.default_channel,
                now=now,
            )
            if opened:
                self.lifecycle.emit(
                    session, thread, "conversation.opened", {"previous_id": thread.previous_id}
                )
            # A conversation whose language is not known yet is in Portuguese.
            text = i18n.text(thread.language or "pt", "agenda.reminder_due", text=reminder.text)
            await self.lifecycle.say(
                session,
                thread,
                text,
                key=f"reminder:{reminder.id}",
                meta={"reminder_id": reminder.id},
            )
            await crm.mark_sent(session, reminder=reminder, now=now)
        log.info("reminder.sent", reminder_id=reminder_id)
        return 1
