"""Folding that keeps every character in place: a match in the folded text is a span of the text."""

from __future__ import annotations

import re

from whatsapp_ai.core.text import strip_accents

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})


def _fold_char(char: str) -> str:
    lowered = char.lower()
    if len(lowered) != 1:
        return char
    base = strip_accents(lowered)
    return base if len(base) == 1 else lowered


def fold(text: str) -> str:
    """The text lower-cased and without accents like `core.text.fold`, one character for each.

    Whitespace is not collapsed and a character whose folding would take more or fewer than one
    character ("ß" stays, "ﬁ" stays) is kept as it is, so offsets in the result are offsets in
    `text`.
    """
    return "".join(_fold_char(c) for c in text.translate(_APOSTROPHES))


def words(text: str) -> list[tuple[str, int, int]]:
    """The letter runs of a (folded) text, each with its span; hyphens and apostrophes split."""
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"[^\W\d_]+", text)]


def next_word(folded: str, pos: int) -> str | None:
    """The word after the spaces at `pos`; None when punctuation or the end comes first."""
    match = re.match(r"\s*([^\W\d_]+)", folded[pos:])
    return match.group(1) if match else None


def previous_word(folded: str, pos: int) -> str | None:
    """The word before the spaces at `pos`; None when punctuation or the start comes first."""
    match = re.search(r"([^\W\d_]+)\s*$", folded[:pos])
    return match.group(1) if match else None
