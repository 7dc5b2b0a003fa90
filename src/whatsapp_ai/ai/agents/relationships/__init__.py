"""The relationships agent (personal CRM): reminders, meetings, people and what happened with
them. A reminder is later sent on WhatsApp at its time by the scheduler."""

from whatsapp_ai.ai.agents.relationships import manage
from whatsapp_ai.ai.agents.relationships.planner import plan
from whatsapp_ai.ai.agents.relationships.tools import AGENT, PROMPT, _refusal
from whatsapp_ai.ai.agents.relationships.tools import TOOLS as _RECORD_TOOLS

TOOLS = [*_RECORD_TOOLS, *manage.TOOLS]

__all__ = ["AGENT", "PROMPT", "TOOLS", "_refusal", "plan"]
