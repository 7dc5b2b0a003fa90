"""How a saved person is found by the name the contact types: the whole name, or a word of it
by its start ("Fer" → Fernanda Lima); failing that, the closest spelling ("Fernada"), though
never the same name in the other gender ("Fernando" is someone else than Fernanda)."""

from __future__ import annotations

from collections.abc import Sequence

from whatsapp_ai.core.fuzzy import closest
from whatsapp_ai.core.text import fold_key
from whatsapp_ai.relationships.models import Person


def by_name(people: Sequence[Person], query: str) -> list[Person]:
    """The person with exactly this name (accents and case aside); else those whose name, or
    a word of it, starts with ``query``."""
    key = fold_key(query)
    if not key:
        return []
    exact = [person for person in people if person.name_key == key]
    if exact:
        return exact
    return [p for p in people if p.name_key.startswith(key) or f" {key}" in p.name_key]


def match_people(people: Sequence[Person], query: str) -> list[Person]:
    """``by_name``; when it finds no one, the closest spellings (several when alike, so the
    contact is asked which)."""
    found = by_name(people, query)
    if found:
        return found
    key = fold_key(query)
    # A typo keeps the first letter ("Fernada"): "Rob" is never Pedro.
    pool = [
        person
        for person in people
        if not _other_gender(key, person.name_key)
        and any(word[:1] == key[:1] for word in person.name_key.split())
    ]
    return [pool[index] for index in closest(key, [person.name_key for person in pool])]


def _other_gender(key: str, name_key: str) -> bool:
    """Whether a word typed and a word of the name differ only in a final "o"/"a" (Fernando,
    Fernanda; Paulo, Paula): Portuguese names that do are different people's."""
    return any(
        len(typed) == len(word) >= 3
        and typed[:-1] == word[:-1]
        and {typed[-1], word[-1]} == {"a", "o"}
        for typed in key.split()
        for word in name_key.split()
    )
