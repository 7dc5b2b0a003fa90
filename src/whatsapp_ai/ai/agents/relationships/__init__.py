"""The relationships agent (personal CRM): reminders, meetings, people and what happened with
them. A reminder is later sent on WhatsApp at its time by the scheduler."""

from whatsapp_ai.ai.agents.relationships.planner import plan
from whatsapp_ai.ai.agents.relationships.tools import AGENT, PROMPT, TOOLS, _refusal

__all__ = ["AGENT", "PROMPT", "TOOLS", "_refusal", "plan"]
