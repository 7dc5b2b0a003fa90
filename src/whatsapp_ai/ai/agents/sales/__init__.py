"""The sales agent: answers from the tenant's catalog, builds the customer's order in chat,
keeps them as a lead, and closes the order with a payment link on the tenant's own Stripe
account (without one, the order waits for an operator).

``args`` holds what the tools take, ``tools`` what they do (through the sales service),
``replies`` what they say, and ``plan`` the offline planner.
"""

from __future__ import annotations

from whatsapp_ai.ai.agents.sales.plan import plan
from whatsapp_ai.ai.agents.sales.tools import AGENT, PROMPT, TOOLS, has_catalog, tools

__all__ = ["AGENT", "PROMPT", "TOOLS", "has_catalog", "plan", "tools"]
