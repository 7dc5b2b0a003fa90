"""The plan's AI tokens held for one turn: taken before its first hosted call, settled with
the tokens the hosted models really used, released when the turn fails."""

from __future__ import annotations

from dataclasses import dataclass, field

from whatsapp_ai.billing import service as billing
from whatsapp_ai.core.db import Database, tenant_scope
from whatsapp_ai.core.ids import new_id


@dataclass
class TokenHold:
    """The plan's AI tokens held for one turn: taken before its first hosted call, settled
    with the tokens the hosted models really used, released when the turn fails."""

    meter: billing.Meter | None
    db: Database
    tenant_id: str
    quantity: int
    state: str = "new"  # new, held, refused
    key: str = field(default_factory=lambda: f"tokens:{new_id()}")

    async def take(self) -> bool:
        """Whether hosted models may be called (the quota is held on the first ask)."""
        if self.meter is None:
            return True
        if self.state == "new":
            try:
                with tenant_scope(self.tenant_id):
                    async with self.db.transaction() as session:
                        await self.meter.reserve(
                            session,
                            tenant_id=self.tenant_id,
                            feature=billing.AI_TOKENS,
                            quantity=self.quantity,
                            key=self.key,
                        )
                self.state = "held"
            except billing.QuotaExceededError:
                self.state = "refused"
        return self.state == "held"

    async def done(self, used: int | None) -> None:
        """Settle ``used`` tokens, or release the hold (None)."""
        if self.meter is None or self.state != "held":
            return
        self.state = "done"
        with tenant_scope(self.tenant_id):
            async with self.db.transaction() as session:
                if used is None:
                    await self.meter.release(session, tenant_id=self.tenant_id, key=self.key)
                else:
                    await self.meter.settle(
                        session, tenant_id=self.tenant_id, key=self.key, actual=used
                    )
