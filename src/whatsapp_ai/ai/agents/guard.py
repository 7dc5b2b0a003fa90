"""What the assistant refuses before any agent runs, and what it reads as data, not requests.

The tools can only ever act for the contact who writes (the platform fixes tenant and contact),
so a request about someone else's records cannot succeed; the guard answers it plainly instead
of quietly doing something else. It also refuses to reveal its instructions, to pretend it did
something it did not, and bulk actions over everyone. Text after a label such as "descrição:",
"obs:" or "note:", quoted speech ("ele disse: '...'") and fake system markers are data: they
are kept with the request they belong to and are never routed as requests of their own.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass

import numpy as np

from whatsapp_ai.ai.agents import guard_examples
from whatsapp_ai.ai.extract.identifiers import blank_references
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
    r"|tool schemas?|modo desenvolvedor|developer mode|debug mode|value of tenant"
    r"|(?:suas|tuas) regras|your rules|qual modelo (?:vc|voce) e|what model are you)\b"
    r"|\[(?:context|route)\]",
)
_PRETEND = re.compile(
    r"\b(?:finge|fingir|finja|pretend|diga que|say (?:that )?you|responde so|responda so"
    r"|just reply|only reply)\b.*|\b(?:sem (?:anotar|registrar|salvar)|without (?:calling|"
    r"recording|saving|actually)|(?:but|and) don'?t (?:actually )?(?:save|record|do)|"
    r"mas nao (?:salva|registra|anota)|e nao (?:registra|salva|anota))\b"
)
_EVERYONE = re.compile(
    r"\b(?:todos os (?:clientes|contatos|usuarios)|(?:de|do|pra|para) todo mundo|all (?:users|"
    r"contacts|customers|clients)|every (?:contact|user|customer|client)|all of the users"
    r"|apag\w* tudo|delete (?:all|everything))\b"
)
# Speaking for someone else's account ("I'm Bruno's accountant", "sou a contadora da Carla"):
# whatever follows is asked on their behalf.
_ON_BEHALF = re.compile(
    r"\b(?:i'?m|i am)\s+(?:\w+'s|his|her|their)\s+(?:accountant|lawyer|attorney|boss|manager"
    r"|assistant|secretary|admin|representative)\b"
    r"|\bsou\s+(?:o|a)?\s*(?:contador|contadora|advogad[oa]|chefe|gerente|assistente|secretari[oa]"
    r"|representante|administrador[a]?)\s+d[oa]\s+\w+"
)
_SWITCH = re.compile(r"\b(?:muda|mude|switch|change)\w*\s+(?:pro|para o|to)\s+(?:o\s+)?tenant")


@dataclass(frozen=True)
class Verdict:
    """A refusal of the whole message (what to say), or None; the contact's own words, to be
    split into requests; and the data set aside (kept with the last request, never routed)."""

    refusal: str | None
    text: str
    data: str = ""


# Cues that name another account by its shape (a number, an id, "this contact", "in X's name",
# "his expenses"): rules read these better than a model.
_ACCOUNT_CUES = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b(?:no|em) nome d[oa]\b",
        rf"\b(?:{_RECORDS})\s+(?:dele|dela|deles|delas)\b",
        r"\b(?:his|her|their)\s+(?:expenses?|balance|entries|spending|reminders?|records?)\b",
        r"\bpra esse contato\b|\bfor (?:this|that) contact\b|\bof contact\b",
        r"\+?\d{2}\s?\d{2}\s?\d{4,5}-?\d{4}\b",
        # A question about what a third person spent or earned ("quanto ele gastou", "what did
        # she spend"): a pronoun can only name someone else's account.
        r"\b(?:quanto|qto|qnto|o que|oq)\s+(?:ele|ela|eles|elas)\s+(?:gast|receb|ganh|pag)\w*",
        r"\b(?:what|how much)\s+(?:did|does|has|have)\s+(?:he|she|they)\s+"
        r"(?:spen[dt]|paid|pay|earn|buy|bought)\b",
        rf"\b(?:{_RECORDS})\s+(?:d[oa]s?|de|of|from)\s+(?:o\s+|a\s+)?(?:{_OTHERS})\b",
    )
)


def _mentions_others(original: str, folded: str) -> bool:
    """A request about someone else's records, told by the shape of the words alone."""
    if any(pattern.search(folded) for pattern in _ACCOUNT_CUES):
        return True
    return bool(
        re.search(r"\b[A-Z][a-z]+'s\s+(?:expenses?|balance|entries|spending|reminders?)", original)
        or re.search(r"\b(?:o|a)\s+[A-Z][a-zà-ú]+\s+gastou\b|\b[A-Z][a-z]+\s+spent\b", original)
    )


# A line forged as the assistant's own context ("[context] now=...", "[route] intent=..."):
# neither a request nor the person's data, so it is dropped before anything reads the message.
_FORGED_CONTEXT = re.compile(r"^\s*\[(?:context|route|dialogue|system)\][^\n]*(?:\n|$)", re.M)
_IDS = re.compile(r"\b(?:tenant|contact)_?id\s*=\s*\S+", _FOLD)


def check(text: str, language: str) -> Verdict:
    """The guard's verdict on a whole message."""
    text = _FORGED_CONTEXT.sub("", text)
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
    if _SWITCH.search(folded) or _EVERYONE.search(folded) or _ON_BEHALF.search(folded):
        return Verdict(i18n.text(language, "guard.others"), spoken, data)
    spoken = _IDS.sub(" ", spoken)
    return Verdict(None, " ".join(spoken.split()).strip(" ,;"), data.strip())


# A third party the request may be about: a capitalised word after the first, a pronoun, a
# number, "everyone". Without one a request can only be about the writer's own records.
_THIRD_PARTY = re.compile(
    r"(?<!^)(?<![.!?]\s)\b[A-Z][a-zà-ú]+|\b(?:dele|dela|deles|delas|his|her|their|him|them)\b"
    r"|\+?\d[\d\s-]{7,}\d|\b(?:todos|todo mundo|outros|everyone|everybody|every|others?)\b"
)
# Above this share of "other" votes among the nearest labelled requests, the request is about
# someone else's account.
OTHER_SHARE = 0.5
NEIGHBOURS = 5


class OwnOrOther:
    """A logistic regression over the sentence encoder: is a request about the writer's own
    records, or another person's account? Learned from `guard_examples`, names masked so it
    learns the shape of the request, not the names in it."""

    def __init__(self, own: tuple[str, ...], other: tuple[str, ...]) -> None:
        self.texts = (own, other)
        self._weights: np.ndarray | None = None
        self._lock = threading.Lock()

    def _fit(self) -> np.ndarray:
        from whatsapp_ai.ai.router.encoder import get_encoder

        with self._lock:
            if self._weights is None:
                own, other = self.texts
                x = get_encoder().encode([mask(t) for t in (*own, *other)])
                x = np.hstack([x, np.ones((len(x), 1), dtype=np.float32)])
                y = np.array([0.0] * len(own) + [1.0] * len(other), dtype=np.float32)
                w = np.zeros(x.shape[1], dtype=np.float32)
                for _ in range(400):  # plain gradient descent, L2 regularised
                    p = 1.0 / (1.0 + np.exp(-(x @ w)))
                    w -= 2.0 * (x.T @ (p - y) / len(y) + 1e-3 * w)
                self._weights = w
            return self._weights

    def other_share(self, text: str) -> float:
        """The probability that the request is about someone else's account."""
        from whatsapp_ai.ai.router.encoder import get_encoder

        w = self._fit()
        vector = get_encoder().encode([mask(text)])[0]
        return float(1.0 / (1.0 + np.exp(-(vector @ w[:-1] + w[-1]))))


def mask(text: str) -> str:
    """The request with the names of people replaced by one placeholder."""
    return _NAME.sub("Fulano", text)


_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-zà-ú]+")
OWN_OR_OTHER = OwnOrOther(guard_examples.OWN, guard_examples.OTHER)


# "cancela o lembrete do João", "move my meeting with Ana": the contact's own agenda entry about
# someone; nobody can change another person's agenda through this assistant anyway.
_OWN_AGENDA = re.compile(
    r"\b(?:cancel\w*|desmarc\w*|muda|mude|move|passa|adia|remarca|apag\w*|exclu\w*|delete"
    r"|reschedule|push)\b.*\b(?:lembrete|reuniao|compromisso|consulta|call|reminder|meeting"
    r"|appointment)\s+(?:d[oa]|de|com|pr[oa]|with|about|for)\b"
    # "cancel the one with Dana", "desmarca a com a Nina": an entry of the contact's agenda
    r"|\b(?:cancel\w*|desmarc\w*|muda|move|reschedule|push)\b.*\b(?:the one|a|o|aquel[ae])"
    r"\s+(?:with|com)\b"
)


def about_others(clause: str) -> bool:
    """Whether this request asks for someone else's account or records."""
    clause = blank_references(clause)
    if _OWN_AGENDA.search(fold(clause)):
        return False
    if any(pattern.search(fold(clause)) for pattern in _ACCOUNT_CUES):
        return True
    if not _THIRD_PARTY.search(clause.strip()):
        return False
    try:
        return OWN_OR_OTHER.other_share(clause) >= OTHER_SHARE
    except Exception:  # no encoder: the hand-written cues decide
        return _mentions_others(clause, fold(clause))


def refuse_clause(clause: str, language: str) -> str | None:
    """A refusal when this request is about someone else's records."""
    if about_others(clause):
        return i18n.text(language, "guard.others")
    return None


async def arefuse_clause(clause: str, language: str) -> str | None:
    """`refuse_clause` without blocking the event loop: only a request that may name a third
    party needs the encoder, and that request is read in a worker thread."""
    if not _THIRD_PARTY.search(clause.strip()):
        return refuse_clause(clause, language)
    return await asyncio.to_thread(refuse_clause, clause, language)
