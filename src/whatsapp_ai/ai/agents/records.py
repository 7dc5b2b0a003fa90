"""Which of the contact's own records a change names, so it reaches the agent that keeps them.

"move o mercado pra hoje" reads like moving a meeting, "the groceries were on saturday, not
sunday" like a reminder, "remove the pharmacy one" like an order; each names an expense the
contact recorded. When a request to change something names a record of one kind only (by its
own words or its category), it goes to that kind's change, whatever agent its words resemble.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from whatsapp_ai.ai.extract import guess_category
from whatsapp_ai.ai.router import IntentScore
from whatsapp_ai.core.text import fold
from whatsapp_ai.finance import service as finance

from .relationships.manage import agenda, shared_words
from .tools import ToolRuntime

_REMOVE = re.compile(
    r"\b(?:apag\w*|exclu\w*|delet\w*|remov\w*|tira|tirar|cancel\w*|desmarc\w*|esquece|drop"
    r"|erase|para de (?:me )?lembrar|pare de (?:me )?lembrar|nao precisa mais (?:me )?lembrar"
    r"|stop reminding|stop|get rid of)\b"
)
_CHANGE = re.compile(
    r"\b(?:muda|mude|mudar|move|mover|passa|passar|adia|adiar|adianta|arruma|arrumar|corrige"
    r"|troca|altera|foi|era|was|were|nao|not|actually|na vdd|na verdade|errei|wrong|fix|change"
    r"|update|edit|make|joga|empurra|push|move)\b"
)
# What the router may take a change of the contact's records for.
_REDIRECTED = frozenset(
    {
        None,
        "crm.move",
        "crm.cancel",
        "crm.add_reminder",
        "crm.add_meeting",
        "crm.person_info",
        "crm.person_update",
        "crm.log_interaction",
        "finance.edit_last",
        "finance.delete_last",
        "sales.order_remove",
        "sales.order_add",
        "sales.order_view",
        "knowledge.question",
    }
)
_STOP = frozenset((
    "apaga", "exclui", "tira", "remove", "cancela", "desmarca", "muda", "move", "passa", "adia",
    "adianta", "arruma", "corrige", "troca", "altera", "delete", "drop", "change", "push", "fix",
    "foi", "era", "was", "were", "nao", "not", "actually", "verdade", "gasto", "gastos", "conta",
    "lancamento", "entry", "expense", "lembrete", "reminder", "reuniao", "meeting", "pra", "para",
    "pro", "hoje", "ontem", "amanha", "today", "yesterday", "tomorrow", "segunda", "terca",
    "quarta", "quinta", "sexta", "sabado", "domingo", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "data", "valor", "date", "amount", "that", "this",
    "one", "esse", "essa", "aquele", "from", "with", "com", "stop", "update", "edit", "make",
    "joga", "empurra", "push", "mais", "tarde", "cedo", "later", "earlier", "hora", "horas",
    "hour", "hours", "the", "and", "for", "uma", "que", "dos", "das", "nos", "nas", "ele",
    "ela", "him", "her", "its", "new", "old", "out", "all", "but", "mas", "tem", "ter", "ver",
    "can", "you", "vc", "voce", "pls", "pfv", "por", "favor", "esse", "isso", "aquilo", "hoje"
))  # fmt: skip
_WORD = re.compile(r"[^\W\d_]{3,}")
_AGENDA_NOUN = re.compile(
    r"\b(?:lembrete|reuniao|compromisso|consulta|reminder|meeting|appointment)s?\b"
)


def _words(clause: str) -> list[str]:
    return [w for w in _WORD.findall(fold(clause)) if w not in _STOP]


async def _kinds(runtime: ToolRuntime, clause: str, agents: Collection[str]) -> set[str]:
    """The kinds of the contact's records ("finance", "crm") the clause names."""
    ctx = runtime.ctx
    words = _words(clause)
    category = guess_category(clause)
    kinds: set[str] = set()
    async with runtime.db.read() as session:
        if "finance" in agents and (words or category):
            found = await finance.find_entries(
                session,
                tenant_id=ctx.tenant_id,
                contact_id=ctx.contact_id,
                words=words,
                categories=[category] if category else [],
            )
            if found:
                kinds.add("finance")
        ahead = await agenda(runtime, session) if "crm" in agents and words else []
        if any(shared_words(item, words) for item in ahead):
            kinds.add("crm")
    return kinds


async def redirect(
    runtime: ToolRuntime, clause: str, score: IntentScore | None, agents: Collection[str]
) -> IntentScore | None:
    """The change intent of the kind of record the clause names, when the router's guess
    belongs to another kind; else the router's guess."""
    intent = score.intent if score else None
    folded = fold(clause)
    removing = _REMOVE.search(folded) is not None
    if intent not in _REDIRECTED or not (removing or _CHANGE.search(folded)):
        return score
    if _AGENDA_NOUN.search(folded) and (intent or "").startswith("finance.") and "crm" in agents:
        # "muda o lembrete da luz pra segunda": it says which kind of record it is.
        return IntentScore("crm.cancel" if removing else "crm.move", "crm", 0.0, 0.0)
    kinds = await _kinds(runtime, clause, agents)
    if kinds == {"finance"} and not (intent or "").startswith("finance."):
        target = "finance.delete_last" if removing else "finance.edit_last"
        return IntentScore(target, "finance", 0.0, 0.0)
    if kinds == {"crm"} and intent not in ("crm.move", "crm.cancel"):
        target = "crm.cancel" if removing else "crm.move"
        return IntentScore(target, "crm", 0.0, 0.0)
    return score
