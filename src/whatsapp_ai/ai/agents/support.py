"""Customer support for a business's assistant: small talk answered shortly and honestly,
complaints met with empathy and a person, refunds and appointment changes handed to the team
with the policy from the tenant's documents, and "cancel my order" done by sales.

Applies before routing, so a customer's "paguei e nao recebi nada" never reaches a personal
finance answer. Small talk is answered for every tenant; the support requests only where the
tenant runs a business (finance switched off)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace

from whatsapp_ai.ai.agents import knowledge as knowledge_agent
from whatsapp_ai.ai.agents.tools import ToolRuntime
from whatsapp_ai.ai.offline import small_talk
from whatsapp_ai.ai.router import IntentRouter, IntentScore
from whatsapp_ai.ai.service import Reply, ReplyStep, TurnInput
from whatsapp_ai.ai.settings import TenantAssistant
from whatsapp_ai.ai.voice import addressed
from whatsapp_ai.core.i18n import text
from whatsapp_ai.core.text import fold
from whatsapp_ai.sales import service as sales

MODEL_NAME = "support"

_ASKING = r"^(?!(?:posso|pode|da pra|como|qual|quais|quando|can i|can you|how|what|when|do you)\b)"
# Support requests, matched on the folded message, in this order.
_REQUESTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "cancel_order",
        re.compile(
            r"\bcancel\w* (?:o |a |meu |minha |esse |este |my |the |this )?"
            r"(?:pedido|encomenda|compra|order|purchase)\b"
        ),
    ),
    (
        "appointment",
        re.compile(
            r"\b(?:desmarca\w*|remarca\w*|cancel\w*|adiar|reschedule|move) (?:a |o |minha |meu |"
            r"my |the |this )?(?:consulta|horario|agendamento|sessao|atendimento|appointment|"
            r"booking|session|visit)\b"
        ),
    ),
    (
        "refund",
        re.compile(
            _ASKING + r".*\b(?:reembolso|estorno|dinheiro de volta|devolve\w* (?:o |meu )?dinheiro"
            r"|quero devolver|refund|money back|want to return)\b"
        ),
    ),
    (
        "complaint",
        re.compile(
            r"\b(?:piada|descaso|absurdo|vergonha|palhacada|golpe|enganad[oa]|pessimo|horrivel"
            r"|nao recebi|nunca (?:chegou|recebi)|nao chegou|chegou (?:todo )?(?:amassad|quebrad"
            r"|estragad|errad)\w*|reclama\w*|ta doendo|esta doendo|falta de respeito)\b"
            r"|\b(?:a joke|ripped off|got nothing|never (?:arrived|came|got)"
            r"|didn'?t (?:get|receive)"
            r"|terrible|awful|complain\w*|scam|arrived (?:broken|damaged|crushed))\b"
        ),
    ),
    (
        "payment",
        re.compile(
            r"\b(?:ja caiu|caiu ai|confirma\w* (?:o |meu )?pagamento|receberam (?:o |meu )?pix"
            r"|recebeu (?:o |meu )?pix|did you (?:get|receive) (?:my )?payment)\b"
        ),
    ),
)
# Where the policy of each request is found in the tenant's documents.
_POLICY_QUESTION = {
    "cancel_order": "cancelamento cancel pedido order",
    "appointment": "cancelamento remarcação cancel reschedule",
    "refund": "reembolso devolução refund returns",
}


def support_request(message: str) -> str | None:
    """The support request a message makes ("complaint", "refund", ...), if any."""
    folded = fold(message)
    for kind, pattern in _REQUESTS:
        if pattern.search(folded):
            return kind
    return None


def with_voice(turn: TurnInput, tenant: TenantAssistant) -> TurnInput:
    """The turn with the tenant's assistant: its agents, name and description."""
    return replace(
        turn,
        enabled_agents=tenant.enabled_agents,
        assistant_name=tenant.assistant_name,
        assistant_description=tenant.description,
    )


async def answer(
    turn: TurnInput,
    tenant: TenantAssistant,
    runtime: ToolRuntime,
    basic: ReplyStep,
    router: IntentRouter,
    agents: Collection[str],
) -> Reply | None:
    """The support reply to ``turn``, or None when it is for the agents."""
    talk = small_talk(turn.text)
    # "ok" after the assistant asked something answers it: that is for the agents.
    asked = bool(turn.history) and turn.history[-1].body.rstrip().endswith("?")
    if talk is not None and not (talk == "ack" and asked):
        # The router's reading is kept in the trace, though the basic step answers.
        score = await router.abest(turn.text, enabled_agents=set(agents))
        basic_reply = await basic.reply(turn)
        trace = {"support": "small_talk", "clauses": [{"intent": score.intent if score else None}]}
        return replace(basic_reply, language=runtime.ctx.language, trace=trace)
    business = not tenant.enabled("finance")
    kind = support_request(turn.text) if business else None
    if kind is None:
        return None
    ctx = runtime.ctx
    name = addressed(ctx.contact_name)
    handoff: str | None = f"support: {kind}"
    if kind == "cancel_order" and tenant.enabled("sales"):
        async with runtime.db.transaction() as session:
            order = await sales.cancel_open_order(
                session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id, now=ctx.now
            )
        said = text(
            ctx.language, "support.order_cancelled" if order else "support.no_open_order", name=name
        )
        handoff = None if order else handoff
    elif kind == "cancel_order":
        said = text(ctx.language, "support.team", name=name)
    else:
        said = text(ctx.language, f"support.{kind}", name=name)
    parts = [said]
    if kind in _POLICY_QUESTION and tenant.enabled("knowledge"):
        policy = await _policy(runtime, _POLICY_QUESTION[kind])
        if policy:
            parts.append(text(ctx.language, "support.policy", policy=policy))
    return Reply(
        text="\n\n".join(parts),
        model=MODEL_NAME,
        language=ctx.language,
        handoff=handoff,
        trace={"support": kind, "clauses": [{"intent": f"support.{kind}"}]},
    )


async def _policy(runtime: ToolRuntime, question: str) -> str | None:
    """The passage of the tenant's documents about ``question``, if they have one."""
    found = await knowledge_agent.search_knowledge(
        runtime, knowledge_agent.QuestionArgs(question=question)
    )
    if not found.data.get("found"):
        return None
    lines = str(found.data["answer"]).strip().splitlines()
    return "; ".join(line.strip().removeprefix("- ").removeprefix("• ") for line in lines)


def fallback(clause: str, tenant: TenantAssistant, agents: Collection[str]) -> IntentScore | None:
    """For a business, a request no agent took is looked up in its documents."""
    if tenant.enabled("finance") or knowledge_agent.AGENT not in agents:
        return None
    if small_talk(clause) is not None or not fold(clause).strip():
        return None
    return IntentScore("knowledge.question", knowledge_agent.AGENT, 0.0, 0.0)
