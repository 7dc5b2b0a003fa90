"""The names of the people a contact keeps, found in a message typed in lower case.

People type "qual o numero do rafa?" and "onde o joao mora?" without capitals, and the
extractors read a name by its capital. A word that is the first name of someone the contact
keeps, said where a name stands (at the start, or after an article or a preposition), is
written back as the contact saved it, so every reader after this one sees the person.
"""

from __future__ import annotations

import re

from whatsapp_ai.ai.agents.tools import ToolRuntime
from whatsapp_ai.core.text import fold
from whatsapp_ai.relationships import service as crm

# Words a name follows: articles, prepositions, "e" ("eu e o rafa"). "são paulo" is a city.
_BEFORE = frozenset(
    {
        "o", "a", "os", "as", "do", "da", "dos", "das", "de", "pro", "pra", "pros", "pras",
        "com", "pelo", "pela", "ao", "e", "sobre", "q", "que", "with", "to", "for", "from",
        "and", "about", "of",
    }
)  # fmt: skip
_NOT_AFTER = frozenset({"sao", "santo", "santa", "san", "st"})
_WORD = re.compile(r"[^\W\d_]+")
# What follows a word inside an e-mail or an address ("lucas.s@gmail.com", "rafa_x").
_ADDRESS = re.compile(r"[@_/]|\.\w")
_KEPT = 200


async def with_known_names(runtime: ToolRuntime, text: str) -> str:
    """The text with the lower-case first names of the contact's people capitalised as kept."""
    if not any(word.islower() for word in _WORD.findall(text)):
        return text
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        found = await crm.list_people(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id, limit=_KEPT
        )
    spelled: dict[str, str] = {}
    for person in found.items:
        first = person.name.split()[0] if person.name.split() else ""
        if len(first) >= 3 and first[:1].isupper():
            spelled.setdefault(fold(first), first)
    return written_as_kept(text, spelled) if spelled else text


def written_as_kept(text: str, spelled: dict[str, str]) -> str:
    """``text`` with each lower-case word that is a kept first name (by its folded form) in a
    name's place written as kept."""
    words = list(_WORD.finditer(text))
    out, last = [], 0
    for index, word in enumerate(words):
        raw = word.group()
        name = spelled.get(fold(raw))
        before = fold(words[index - 1].group()) if index else None
        in_place = before is None or (before in _BEFORE and before not in _NOT_AFTER)
        inside = _ADDRESS.match(text, word.end()) or text[word.start() - 1 : word.start()] in (
            "@",
            ".",
            "_",
            "/",
        )
        if name is None or not raw.islower() or not in_place or inside:
            continue  # not a name, or part of an e-mail or an address ("lucas.s@gmail.com")
        out.append(text[last : word.start()])
        out.append(name)
        last = word.end()
    out.append(text[last:])
    return "".join(out)
