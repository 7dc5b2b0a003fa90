"""What the assistant refuses before any agent runs, and what it reads as data, not requests.

The tools can only ever act for the contact who writes (the platform fixes tenant and contact),
so a request about someone else's records cannot succeed; the guard answers it plainly instead
of quietly doing something else. It also refuses to reveal its instructions, to pretend it did
something it did not, and bulk actions over everyone. Text after a label such as "descrição:",
"obs:" or "note:", quoted speech ("ele disse: '...'") and fake system markers are data: they
are kept with the request they belong to and are never routed as requests of their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold

_FOLD = re.IGNORECASE
_MONTHS_DAYS = (
    "janeiro|fevereiro|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
    "|january|february|march|april|may|june|july|august|september|october|november|december"
    "|segunda|terca|quarta|quinta|sexta|sabado|domingo|monday|tuesday|wednesday|thursday"
    "|friday|saturday|sunday|pix|uber|ifood|netflix|spotify|amazon"
)
_RECORDS = (
    r"gastos?|lancamentos?|saldo|despesas?|entradas?|receitas?|contas?|compromissos?|lembretes?"
    r"|expenses?|entries|entry|balance|spending|transactions?|reminders?|records?|dados"
)
_OTHERS = (
    r"\+?\d[\d\s-]{7,}\d|contato|contatos|cliente|clientes|usuarios?|todos|todo mundo|outros"
    r"|contacts?|clients?|customers?|users?|everyone|everybody|all"
)
_DATA_LABEL = re.compile(
    r"(?:,|;|\.|\s)\s*(?:descri[cç][aã]o|obs|observa[cç][aã]o|nota|note|memo|description"
    r"|ps\s+sistema|p\.?s\.?)\s*:|</?\s*(?:system|user|assistant)\s*>|\bsystem override\b",
    _FOLD,
)
_QUOTED = re.compile(
    r"\b(?:disse|falou|mandou|escreveu|said|told me|wrote|says)\s*:?\s*['\"“‘].*$", _FOLD
)
_PROMPT = re.compile(
    r"\b(?:prompt|instruc(?:ao|oes)|instructions?|mensagem do sistema|system message"
    r"|tool schemas?|modo desenvolvedor|developer mode|debug mode|value of tenant)\b"
    r"|\[(?:context|route)\]",
)
_PRETEND = re.compile(
    r"\b(?:finge|fingir|finja|pretend|diga que|say (?:that )?you|responde so|responda so"
    r"|just reply|only reply)\b.*|\b(?:sem (?:anotar|registrar|salvar)|without (?:calling|"
    r"recording|saving|actually)|(?:but|and) don'?t (?:actually )?(?:save|record|do)|"
    r"mas nao (?:salva|registra|anota)|e nao (?:registra|salva|anota))\b"
)
_EVERYONE = re.compile(
    r"\b(?:todos os (?:clientes|contatos|usuarios)|de todo mundo|todo mundo|all (?:users|"
    r"contacts|customers|clients)|every (?:contact|user|customer|client)|all of the users"
    r"|apag\w* tudo|delete (?:all|everything))\b"
)
_SWITCH = re.compile(r"\b(?:muda|mude|switch|change)\w*\s+(?:pro|para o|to)\s+(?:o\s+)?tenant")


@dataclass(frozen=True)
class Verdict:
    """A refusal of the whole message (what to say), or None; the contact's own words, to be
    split into requests; and the data set aside (kept with the last request, never routed)."""

    refusal: str | None
    text: str
    data: str = ""


def _mentions_others(original: str, folded: str) -> bool:
    """A request about someone else's records (a name, a number, "everyone")."""
    possessive = re.search(
        rf"\b(?:{_RECORDS})\s+(?:d[oa]s?|de|of|from)\s+(?:o\s+|a\s+)?(\S+)", folded
    )
    if possessive is not None:
        target = possessive.group(1)
        position = possessive.start(1)
        word = original[position : position + len(target)]
        if re.fullmatch(_OTHERS, target) or (
            word[:1].isupper() and not re.fullmatch(_MONTHS_DAYS, target.strip(".,!?"))
        ):
            return True
        if re.fullmatch(r"\+?\d[\d-]{7,}", target):
            return True
    patterns = (
        r"\b(?:no|em) nome d[oa]\b",
        rf"\b(?:{_RECORDS})\s+(?:dele|dela|deles|delas)\b",
        r"\b(?:his|her|their)\s+(?:expenses?|balance|entries|spending|reminders?|records?)\b",
        r"\bpra esse contato\b|\bfor (?:this|that) contact\b",
        r"\+?\d{2}\s?\d{2}\s?\d{4,5}-?\d{4}\b",
    )
    if any(re.search(pattern, folded) for pattern in patterns):
        return True
    if re.search(r"\b[A-Z][a-z]+'s\s+(?:expenses?|balance|entries|spending|reminders?)", original):
        return True
    if re.search(r"\b(?:o|a)\s+[A-Z][a-zà-ú]+\s+gastou\b|\b[A-Z][a-z]+\s+spent\b", original):
        return True
    return bool(
        re.search(
            r"\b(?:log|record|registra\w*|anota\w*|lanca\w*)\b.*\b(?:for|pro|pra|para)\s+"
            r"(?:o\s+|a\s+)?[A-Z][a-z]+\b",
            original,
        )
    )


_IDS = re.compile(r"\b(?:tenant|contact)_?id\s*=\s*\S+", _FOLD)


def check(text: str, language: str) -> Verdict:
    """The guard's verdict on a whole message."""
    cut = _DATA_LABEL.search(text)
    spoken, data = (text[: cut.start()], text[cut.start() :]) if cut else (text, "")
    quoted = _QUOTED.search(spoken)
    if quoted is not None:
        # What someone else said is a note about them, not a request to the assistant.
        spoken, data = spoken[: quoted.start()], spoken[quoted.start() :] + data
    folded = fold(spoken)
    if _PROMPT.search(folded):
        return Verdict(i18n.text(language, "guard.prompt"), spoken, data)
    if _PRETEND.search(folded):
        return Verdict(i18n.text(language, "guard.pretend"), spoken, data)
    if _SWITCH.search(folded) or _EVERYONE.search(folded):
        return Verdict(i18n.text(language, "guard.others"), spoken, data)
    spoken = _IDS.sub(" ", spoken)
    return Verdict(None, " ".join(spoken.split()).strip(" ,;"), data.strip())


def refuse_clause(clause: str, language: str) -> str | None:
    """A refusal when this request is about someone else's records."""
    if _mentions_others(clause, fold(clause)):
        return i18n.text(language, "guard.others")
    return None
