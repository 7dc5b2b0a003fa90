"""Splitting a message that holds several requests into one clause per request (PT and EN).

"gastei 50 no mercado e me lembra de ligar pro João amanhã" is two clauses. The message is cut:

- always at ";", at a line break, and at a "." , "!" or "?" that ends a sentence (followed by a
  space or the end, and not after a title such as "Dr." or "Sr."); the ".", "!" and "?" stay with
  their clause, so a recognizer still sees the question mark;
- at " e ", " and ", "," (and ", e", "e também", "and then", "e depois"...) only when what follows
  starts a new request: a request verb or question word ("me lembra", "lembre-me", "anota",
  "registra", "gastei", "paguei", "quanto", "qual", "remind me", "add", "how much", "i spent").

So "arroz e feijão", "50 e 30 reais", "me lembra de comprar pão e leite", "ligar pro João e pra
Maria" stay whole: what follows the "e" is not a request. The joining words ("e", "and", "também",
"then") belong to no clause, and a clause that starts with one after a full stop loses it
("Gastei 50. E me lembra..." gives "me lembra..."). A clause of punctuation alone is dropped. Each
clause keeps its span in the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from whatsapp_ai.ai.extract._text import fold


@dataclass(frozen=True, slots=True)
class Clause:
    """One request of a message: its text, stripped, and its span in the message."""

    text: str
    span: tuple[int, int]


# Folded openings of a request, matched at the start of what follows a joining word.
REQUEST_STARTS = (
    # reminders and notes
    "me lembra", "me lembre", "me lembrar", "lembra", "lembre", "lembre-me", "lembrar de",
    "lembrete", "me avisa", "me avise", "avisa", "avise", "anota", "anote", "anotar", "registra",
    "registre", "registrar", "adiciona", "adicione", "adicionar", "salva", "salve", "agenda",
    "agende", "agendar", "marca", "marque", "marcar", "cria", "crie", "criar", "cadastra",
    "cadastre", "coloca", "coloque", "lanca", "lance", "cancela", "cancele", "apaga", "apague",
    "remove", "remova", "exclui", "exclua", "desmarca", "desmarque", "muda", "mude", "altera",
    "altere",
    # money
    "gastei", "paguei", "comprei", "recebi", "ganhei", "vendi", "transferi", "depositei",
    "eu gastei", "eu paguei", "eu comprei", "eu recebi", "eu ganhei",
    # questions and listings
    "quanto", "quantos", "quantas", "qual", "quais", "quando", "cade", "me mostra",
    "me mostre", "mostra", "mostre", "lista", "liste", "me diz", "me diga", "me fala", "me manda",
    "o que", "que horas",
    # English
    "remind me", "please remind", "remind", "add", "log", "record", "save", "schedule", "set a",
    "set up", "create", "cancel", "delete", "remove", "how much", "how many", "what", "when",
    "show me", "show", "list", "tell me", "i spent", "i paid", "i bought", "i received",
    "i earned", "i got paid", "spent", "paid", "bought", "received", "earned",
)  # fmt: skip
# Joining words that may come between the "e" and the request ("e também me lembra").
_FILLER_WORDS = r"tambem|depois(?! de)|ai|entao|por favor|also|then|please"
_FILLERS = rf"(?:{_FILLER_WORDS})"
_STARTS = "|".join(sorted((re.escape(s) for s in REQUEST_STARTS), key=len, reverse=True))
_STARTS_HERE = re.compile(rf"(?:{_FILLERS}\s+)*(?P<start>(?:{_STARTS}))(?![\w-])")
_SOFT = re.compile(rf"\s*,\s*(?:(?:e|and)\s+)?(?:{_FILLERS}\s+)*|\s+(?:e|and)\s+(?:{_FILLERS}\s+)*")
_TITLES = r"(?:dr|dra|sr|sra|srta|prof|profa|mr|mrs|ms|st|av|etc)"
_HARD = re.compile(r"[;\n]|(?<=[.!?])(?=\s|$)")
_LEADING_JOIN = re.compile(rf"(?:(?:e|and|{_FILLER_WORDS})[\s,]+)+")


def _sentences(folded: str) -> list[tuple[int, int]]:
    """The spans between hard breaks."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _HARD.finditer(folded):
        if match.group() == "" and _after_title(folded, match.start()):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(folded)))
    return spans


def _after_title(folded: str, end: int) -> bool:
    return re.search(rf"(?<!\w){_TITLES}\.$", folded[:end]) is not None


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and (text[start].isspace() or text[start] in ",;"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;"):
        end -= 1
    return start, end


def split_intents(text: str) -> list[Clause]:
    """The message cut into one clause per request, left to right (see the module docstring)."""
    folded = fold(text)
    clauses: list[Clause] = []
    for sentence_start, sentence_end in _sentences(folded):
        start, end = _trimmed(text, sentence_start, sentence_end)
        lead = _LEADING_JOIN.match(folded, start, end)
        if lead and _STARTS_HERE.match(folded, lead.end(), end):
            start = lead.end()
        pieces_start = start
        position = start
        while True:
            cut = None
            for soft in _SOFT.finditer(folded, position, end):
                following = _STARTS_HERE.match(folded, soft.end(), end)
                if soft.start() > pieces_start and following:
                    cut = (soft.start(), following.start("start"))
                    break
            if cut is None:
                break
            clauses.append(_clause(text, pieces_start, cut[0]))
            pieces_start = position = cut[1]
        clauses.append(_clause(text, pieces_start, end))
    return [c for c in clauses if not all(unicodedata.category(ch)[0] in "PZ" for ch in c.text)]


def starts_request(text: str) -> bool:
    """Does ``text`` open with a request ("quanto gastei", "me lembra", "add ...")?"""
    return _STARTS_HERE.match(fold(text).strip()) is not None


def _clause(text: str, start: int, end: int) -> Clause:
    start, end = _trimmed(text, start, end)
    return Clause(text[start:end], (start, end))
