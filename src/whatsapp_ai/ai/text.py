"""Folding of message text for the intent recognizers (PT and EN)."""

from __future__ import annotations

import unicodedata


def plain(text: str) -> str:
    """The text lower-cased, without accents, its whitespace collapsed to single spaces."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())
