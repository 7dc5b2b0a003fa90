"""Imports every module's tables so the metadata is complete (migrations, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    """Register every table on ``Base.metadata``."""
    import whatsapp_ai.ai.models
    import whatsapp_ai.billing.models
    import whatsapp_ai.billing.stripe_models
    import whatsapp_ai.channels.models
    import whatsapp_ai.channels.twilio.models
    import whatsapp_ai.conversation.models
    import whatsapp_ai.core.leases
    import whatsapp_ai.core.queue.sql
    import whatsapp_ai.core.ratelimit
    import whatsapp_ai.core.stripe_events
    import whatsapp_ai.finance.models
    import whatsapp_ai.identity.models
    import whatsapp_ai.knowledge.models
    import whatsapp_ai.relationships.models
    import whatsapp_ai.sales.models  # noqa: F401
