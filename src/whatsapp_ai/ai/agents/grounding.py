"""What each request of a message asks, grounded in the conversation and the contact's own
records: the message cut into requests, then each read against where the conversation stands
(an answer, a follow-up, a correction), the statements a rule reads well (money, a person, an
event), the people the contact keeps and the records a change names.

The router's reading is where it starts; each stage may replace it with one it is sure of.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from whatsapp_ai.ai import dialogue
from whatsapp_ai.ai.agents import people_notes, records
from whatsapp_ai.ai.agents.tools import ToolRuntime
from whatsapp_ai.ai.extract import split_intents
from whatsapp_ai.ai.extract.reminders import LEFT_SOMEWHERE, TRIGGER, keep_warnings_whole
from whatsapp_ai.ai.router import IntentScore, statements

# "oi, vcs atendem amil?", "bom dia! quanto gastei hj?": the greeting before a request.
_GREETING_LEAD = re.compile(
    r"^[ \t]*(?:(?:oi+|ola|olá|opa|eae|eai|e ai|e aí|bom dia|boa tarde|boa noite|hello|hi|hey"
    r"|good (?:morning|afternoon|evening))\b[ \t,!.]*)+"
    r"(?:(?:tudo bem|td bem|tudo bom|blz)\??[ \t,!.]*)?",
    re.IGNORECASE,
)


def without_greeting(text: str) -> str:
    """The message without the greeting it opens with, when a request of two words or more
    follows it ("oi, vcs atendem amil?"); else the message."""
    lead = _GREETING_LEAD.match(text)
    rest = text[lead.end() :] if lead is not None else text
    # A greeting sent on its own ("oi", then the request in the next message or line, which
    # a burst joins with ";") is greeted back.
    own_line = rest.lstrip(" \t,!.").startswith((";", "\n", "\r"))
    return rest if lead is not None and not own_line and len(rest.split()) >= 2 else text


def requests(text: str) -> list[str]:
    """The requests of a message, in order ("gastei 50 no mercado e me lembra de ligar pro
    João amanhã" is two), a warning kept with the event it is about."""
    text = without_greeting(text)
    spans = keep_warnings_whole(text, [c.span for c in split_intents(text)])
    clauses = [text[begin:end] for begin, end in spans] or [text]
    # "e quanto disso foi mercado?": the "e" the split leaves out says the message leans on
    # the one before, so the first clause keeps it.
    lead = text[: spans[0][0]] if spans else ""
    if lead.strip() and clauses:
        clauses[0] = lead.lstrip() + clauses[0]
    # "levei o carro no conserto, me lembra de buscar amanhã": where the thing is, said for
    # the reminder that follows, goes with it.
    joined: list[str] = []
    for clause in clauses:
        if joined and LEFT_SOMEWHERE.match(joined[-1]) and TRIGGER.search(clause):
            joined[-1] = f"{joined[-1].rstrip(' ,;')}, {clause.lstrip()}"
        else:
            joined.append(clause)
    # "opa, lancei errado, apaga esse": the mistake is said by the request that follows.
    return [c for c in joined if not dialogue.only_a_mistake(c)] or joined


@dataclass(frozen=True)
class Grounded:
    """One request as understood: its intent, whether that is sure, its words (an answer
    joined to the question's request) and how the conversation read it."""

    score: IntentScore | None
    sure: bool
    clause: str
    reading: dialogue.Reading


async def ground(
    clause: str,
    score: IntentScore | None,
    sure: bool,
    *,
    state: dialogue.Dialogue,
    agents: Collection[str],
    runtime: ToolRuntime,
) -> Grounded:
    """The request read against the conversation, then against what a rule reads well and
    the contact's own people and records."""
    reading = dialogue.read(
        clause,
        intent=score.intent if score else None,
        agent=score.agent if score else None,
        score=score.score if score else 0.0,
        state=state,
    )
    # "emprestei meu livro pro Joao" right after a reminder: a note about Joao, not a remark
    # on the reminder (the router had no idea; a rule reads it well).
    noted = score is None and reading.how == "follow_up" and "crm" in agents
    if noted and statements.person_statement(clause) is not None:
        reading = dialogue.Reading("new", None, clause)
    if reading.how != "new" and reading.intent is not None:
        agent = reading.intent.split(".", 1)[0]
        if agent in agents:
            strength = score.score if score else 0.0
            read_as = IntentScore(reading.intent, agent, strength, strength)
            return Grounded(read_as, True, reading.text, reading)
    restated = statements.restate(score, clause, agents)
    # A statement read by rule is as sure as the router.
    sure = sure or restated is not score
    score = restated
    if "crm" in agents and await people_notes.about_someone_known(
        runtime, clause, score.intent if score else None
    ):
        score, sure = IntentScore("crm.person_info", "crm", 0.0, 0.0), True
    if "crm" in agents and await people_notes.settles_a_debt(
        runtime, clause, score.intent if score else None
    ):
        score, sure = IntentScore("crm.log_interaction", "crm", 0.0, 0.0), True
    redirected = await records.redirect(runtime, clause, score, agents)
    sure = sure or redirected is not score
    new = dialogue.Reading("new", redirected.intent if redirected else None, clause)
    return Grounded(redirected, sure, clause, new)
