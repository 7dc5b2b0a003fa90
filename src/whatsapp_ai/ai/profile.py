"""Recognizing a contact's wish to change how they are called or answered (PT and EN)."""

from __future__ import annotations

import re

from whatsapp_ai.ai.text import plain

_NAME = re.compile(
    r"(?:me chame de|pode me chamar de|prefiro ser chamad[oa] de|meu nome (?:e|é)|"
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


def profile_changes(text: str) -> dict[str, str]:
    """The display name and/or language the sender asks for, if any."""
    changes: dict[str, str] = {}
    match = _NAME.search(text)
    if match:
        name = _STOP.sub("", match.group(1)).strip(" .!,'-")
        words = name.split()
        if 1 <= len(words) <= 3:
            changes["display_name"] = " ".join(word[:1].upper() + word[1:] for word in words)
    folded = plain(text)
    for language, pattern in _LANGUAGE.items():
        if pattern.search(folded):
            changes["language"] = language
    return changes
