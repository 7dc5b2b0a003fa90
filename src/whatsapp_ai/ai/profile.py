"""Recognizing a contact's wish to change how they are called or answered (PT and EN)."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

from whatsapp_ai.core.text import fold

_NAME = re.compile(
    r"(?:me chame de|me chama de|pode me chamar de|prefiro ser chamad[oa] de|meu nome (?:e|é)|"
    r"call me|my name is)\s+([A-Za-zÀ-ÿ'][A-Za-zÀ-ÿ' -]{0,40})",
    re.IGNORECASE,
)
_STOP = re.compile(r"\s+(?:e|and|por favor|please|,)(?:\s|$).*$", re.IGNORECASE)
_LANGUAGE = {
    "en": re.compile(
        r"\b(responda|fale|escreva|me responda)\b.{0,15}\bingles\b"
        r"|\b(reply|answer|speak|write|talk)\b.{0,15}\benglish\b|\bin english,? please\b"
    ),
    "pt-BR": re.compile(
        r"\b(responda|fale|escreva|me responda)\b.{0,15}\bportugues\b"
        r"|\b(reply|answer|speak|write|talk)\b.{0,15}\bportuguese\b"
    ),
}


_ZONE_CUE = re.compile(
    r"\b(?:meu fuso(?: horario)?(?: e)?|fuso horario(?: de)?|estou (?:morando )?em|moro em"
    r"|vivo em|my time ?zone is|time ?zone|i live in|i'?m in|i am in|i'?m living in)\s+"
    r"(?:o |a |the )?([a-z_/ ]{2,40}?)\s*(?:[.,!?]|$| e | and | agora| now)"
)
_CITIES = {
    "sao paulo": "America/Sao_Paulo", "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo", "brasilia": "America/Sao_Paulo",
    "belo horizonte": "America/Sao_Paulo", "curitiba": "America/Sao_Paulo",
    "porto alegre": "America/Sao_Paulo", "salvador": "America/Bahia",
    "recife": "America/Recife", "fortaleza": "America/Fortaleza", "belem": "America/Belem",
    "manaus": "America/Manaus", "cuiaba": "America/Cuiaba", "porto velho": "America/Porto_Velho",
    "rio branco": "America/Rio_Branco", "acre": "America/Rio_Branco",
    "fernando de noronha": "America/Noronha", "noronha": "America/Noronha",
    "portugal": "Europe/Lisbon", "lisboa": "Europe/Lisbon", "lisbon": "Europe/Lisbon",
    "porto": "Europe/Lisbon", "londres": "Europe/London", "london": "Europe/London",
    "madrid": "Europe/Madrid", "paris": "Europe/Paris", "berlim": "Europe/Berlin",
    "berlin": "Europe/Berlin", "nova york": "America/New_York", "new york": "America/New_York",
    "miami": "America/New_York", "boston": "America/New_York", "orlando": "America/New_York",
    "chicago": "America/Chicago", "los angeles": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "toquio": "Asia/Tokyo", "tokyo": "Asia/Tokyo",
    "buenos aires": "America/Argentina/Buenos_Aires", "argentina": "America/Argentina/Buenos_Aires",
    "santiago": "America/Santiago", "lima": "America/Lima", "bogota": "America/Bogota",
    "cidade do mexico": "America/Mexico_City", "mexico city": "America/Mexico_City",
}  # fmt: skip


def _zone(folded: str, original: str) -> str | None:
    """The IANA time zone a message names (a city, a country, or the zone itself)."""
    for name in re.findall(r"\b[A-Z][A-Za-z_]+/[A-Z][A-Za-z_/]+\b", original):
        if name in available_timezones():
            return str(name)
    found = _ZONE_CUE.search(folded)
    if found is None:
        return None
    place = found.group(1).strip()
    for size in range(len(place.split()), 0, -1):
        candidate = " ".join(place.split()[:size])
        if candidate in _CITIES:
            return _CITIES[candidate]
    return None


def place_named(text: str) -> str | None:
    """The place a message names for its time zone, as written ("moro em Lisboa": Lisboa)."""
    found = _ZONE_CUE.search(fold(text))
    if found is None:
        return None
    place = found.group(1).strip().split()
    for size in range(len(place), 0, -1):
        if " ".join(place[:size]) in _CITIES:
            start = fold(text).find(" ".join(place[:size]), found.start(1))
            return text[start : start + len(" ".join(place[:size]))].title() if start >= 0 else None
    return None


def profile_changes(text: str) -> dict[str, str]:
    """The display name, language and/or time zone the sender asks for, if any."""
    changes: dict[str, str] = {}
    match = _NAME.search(text)
    if match:
        name = _STOP.sub("", match.group(1)).strip(" .!,'-")
        words = name.split()
        if 1 <= len(words) <= 3:
            changes["display_name"] = " ".join(word[:1].upper() + word[1:] for word in words)
    folded = fold(text)
    for language, pattern in _LANGUAGE.items():
        if pattern.search(folded):
            changes["language"] = language
    zone = _zone(folded, text)
    if zone is not None:
        changes["timezone"] = zone
    return changes
