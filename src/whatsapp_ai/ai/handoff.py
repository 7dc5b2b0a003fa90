"""Recognizing a contact's request for a human, and the tenant's handoff topics (PT and EN).

A request needs a verb of asking (falar com, me passa pra, quero; talk to, transfer me, I need)
aimed at a person, or a sentence that is nothing but such a person ("atendente", "human!"). Merely
mentioning a person ("o atendente de ontem", "are you a human?") is not a request, and a negation
just before the request ("não quero falar com atendente", "I don't need a human") cancels it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from whatsapp_ai.core.text import fold

# Whom a contact may ask for. The broad forms (alguém, uma pessoa, someone) count only after a
# verb of talking or transferring: "preciso de alguém para consertar" is not a handoff.
_PT_PERSON = (
    r"atendentes?(?: humanos?)?|humanos?|ser humano|gerente|supervisora?|operadora?|representante"
    r"|consultora?|funcionari[oa]|responsavel|pessoa (?:real|de verdade)|alguem (?:real|de verdade)"
    r"|gente de verdade"
)
_PT_ANYONE = rf"{_PT_PERSON}|alguem|pessoa"
_PT_ARTICLE = r"(?:o|a|um|uma|algum|alguma|seu|sua|voces|vcs)"
_EN_HUMAN = r"human(?! resources| rights| nature| error)s?"
_EN_PERSON = (
    rf"{_EN_HUMAN}|human being|person|agent|representative|rep|operator|manager|supervisor"
    r"|staff|customer service|support team"
)
_EN_ANYONE = rf"{_EN_PERSON}|someone|somebody|anyone|anybody|people"
# "my manager" is the contact's own boss; "your manager" is the business's.
_EN_ARTICLE = r"(?:a|an|the|some|your|one of your|real|live|actual|proper)"

_REQUEST = re.compile(
    # falar com um atendente / conversar com alguém de verdade
    rf"\b(?:falar|conversar)\s+(?:\w+\s+)?com\s+(?:{_PT_ARTICLE}\s+)?(?:{_PT_ANYONE})\b"
    # me passa pra um humano / pode me transferir para um atendente / chama o gerente
    r"|\b(?:me\s+)?(?<!\bse )(?:passa|passe|transfere|transfira|transferir|encaminha|encaminhe"
    r"|encaminhar|coloca|coloque|colocar|chama|chame|chamar|conecta|conecte|conectar|direciona"
    r"|direcione|direcionar)\s+(?:me\s+)?(?:(?:pra|para|pro|com|ao|a|o|um|uma|algum|alguma|seu|sua)"
    rf"\s+){{0,2}}(?:{_PT_ANYONE})\b"
    # quero um atendente / preciso de um humano / tem algum atendente aí?
    r"|\b(?:quero|queria|preciso|precisava|gostaria|solicito|peco|cade|tem|existe)\s+"
    rf"(?:(?:de|do|da|um|uma|algum|alguma|o|a|ai)\s+){{0,2}}(?:{_PT_PERSON})\b"
    # ser atendido por uma pessoa
    rf"|\batendid[oa]\s+por\s+(?:{_PT_ARTICLE}\s+)?(?:{_PT_ANYONE})\b"
    # atendimento humano / suporte humano / atendente de verdade
    r"|\b(?:atendimento|atendente|suporte)\s+(?:com\s+(?:um\s+)?)?(?:humano|de verdade|real)\b"
    # talk to a human / speak with someone from support
    rf"|\b(?:talk|speak|chat)\s+(?:\w+\s+)?(?:to|with)\s+(?:{_EN_ARTICLE}\s+){{0,2}}(?:{_EN_ANYONE})\b"
    # transfer me to an agent / get me a human / escalate this to a person
    r"|\b(?:transfer|connect|put|pass|forward|escalate|redirect|route|get|give|send)\s+"
    r"(?:me|us|this|my (?:call|chat|case|ticket))\s+(?:(?:to|through to|through|over to|with)\s+)?"
    rf"(?:{_EN_ARTICLE}\s+){{0,2}}(?:{_EN_ANYONE})\b"
    # I need a human / I'd like a real person
    r"|\b(?:want|need|request|requesting|demand|prefer|would like|id like)\s+"
    rf"(?:(?:a|an|the|some|real|live|actual|human)\s+){{0,2}}(?:{_EN_PERSON})\b"
    # is there a live agent? / human support
    r"|\b(?:live|human|real)\s+(?:agent|support|representative|operator|assistance)\b"
    r"|\bcustomer service (?:rep|representative|agent)\b"
)
# A whole sentence that is the person asked for, with at most a greeting and courtesy around it.
_COURTESY = (
    r"(?:oi|ola|hi|hello|hey|ei|por favor|pf|pfv|pfvr|please|pls|plz|agora|now|urgente|asap)"
)
_ALONE = re.compile(
    rf"^(?:{_COURTESY}\s+)*(?:(?:um|uma|o|a|an)\s+)?"
    r"(?:atendentes?|atendente humano|humano|atendimento humano|suporte humano|pessoa real"
    r"|pessoa de verdade|operador|representante|human|agent|live agent|human agent|real person"
    r"|representative|operator|customer service)"
    rf"(?:\s+{_COURTESY})*$"
)
_NEGATION = frozenset(
    {"nao", "nem", "nunca", "sem", "not", "dont", "never", "doesnt", "didnt", "wont"}
)
_CLAUSE_BREAK = re.compile(r"[,.;:!?\n]|\b(?:mas|porem|entao|but|so|then)\b")
# Negation cancels a request only this many words before it, within the same clause.
_NEGATION_REACH = 4

_FILLERS = frozenset(
    {
        "a", "o", "as", "os", "um", "uma", "de", "do", "da", "dos", "das", "no", "na", "nos",
        "nas", "em", "meu", "minha", "meus", "minhas", "seu", "sua", "seus", "suas", "esse", "essa",
        "este", "esta", "the", "an", "my", "your", "of", "to", "for", "this", "that", "our",
    }
)  # fmt: skip


def _fold(text: str) -> str:
    return re.sub(r"['’ʼ`´]", "", fold(text))


def _negated(folded: str, start: int) -> bool:
    clause = _CLAUSE_BREAK.split(folded[:start])[-1]
    return any(word in _NEGATION for word in clause.split()[-_NEGATION_REACH:])


def asks_for_human(text: str) -> bool:
    """Whether the message asks, now, to be served by a person instead of the assistant."""
    folded = _fold(text)
    if any(not _negated(folded, m.start()) for m in _REQUEST.finditer(folded)):
        return True
    sentences = re.split(r"[.!?;\n]", folded)
    return any(_ALONE.match(" ".join(re.sub(r"[^\w\s]", " ", s).split())) for s in sentences)


def _inflected(word: str) -> str:
    """A pattern for a topic word and its simple plurals and inflections (PT and EN)."""
    if len(word) < 3 or not word.isalpha():
        return re.escape(word)
    forms = [rf"{re.escape(word)}(?:s|es|ed|d|ing)?"]
    stem = re.escape(word[:-1])
    if word.endswith("ao"):
        forms.append(rf"{re.escape(word[:-2])}(?:oes|aes)")
    elif word.endswith("l"):
        forms.append(rf"{stem}is|{re.escape(word)}(?:led|ling)")
    elif word.endswith("m"):
        forms.append(rf"{stem}ns")
    elif word.endswith("y"):
        forms.append(rf"{stem}(?:ies|ied)")
    return f"(?:{'|'.join(forms)})"


@lru_cache(maxsize=1024)
def _topic_pattern(topic: str) -> re.Pattern[str] | None:
    words = re.findall(r"\w+", _fold(topic))
    if not words:
        return None
    filler = "|".join(sorted(_FILLERS))
    gap = rf"\W+(?:(?:{filler})\W+){{0,2}}"
    return re.compile(rf"(?<!\w){gap.join(_inflected(word) for word in words)}(?!\w)")


def mentions_topic(text: str, topics: Sequence[str]) -> str | None:
    """The first configured topic (in the tenant's order) the message mentions, as configured.

    Matching ignores accents and case, respects word boundaries, lets each word take a simple
    plural or inflection ("reembolso" finds "reembolsos", "cartão de crédito" finds "cartões de
    crédito") and lets up to two articles, prepositions or possessives sit between the words
    of a multi-word topic ("cancelar assinatura" finds "cancelar a minha assinatura").
    """
    folded = _fold(text)
    for topic in topics:
        pattern = _topic_pattern(topic)
        if pattern is not None and pattern.search(folded):
            return topic
    return None


_OFFER = re.compile(r"quer que eu chame uma pessoa|would you like me to bring in someone")
_YES = re.compile(
    r"^(?:sim|s|ss|quero|quero sim|pode|pode sim|pode chamar|claro|por favor|sim,? por favor"
    r"|yes|yep|yeah|y|sure|please|yes,? please|ok,? please|go ahead)[.! ]*$"
)


def accepts_offer(previous_reply: str, text: str) -> bool:
    """Whether the message says yes to the assistant's offer (in its last reply) of a person."""
    return bool(_OFFER.search(_fold(previous_reply))) and bool(_YES.match(_fold(text).strip()))
