"""Text folding: how names, keywords and searches are compared ("São  João" ≈ "sao joao")."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import snowballstemmer

_NOT_WORD = re.compile(r"[\W_]+")


def strip_accents(text: str) -> str:
    """The text without combining marks ("ação" → "acao"); case and spacing kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, no accents, whitespace collapsed to single spaces ("  Boné " → "bone")."""
    return " ".join(strip_accents(text.casefold()).split())


def fold_key(text: str) -> str:
    """``fold`` with punctuation as spaces too: a lookup key ("João-Silva!" → "joao silva")."""
    return _NOT_WORD.sub(" ", strip_accents(text.casefold())).strip()


_WORDS = re.compile(r"[^\W\d_]{3,}")


@cache
def _stemmers() -> tuple[snowballstemmer.Stemmer, ...]:
    return (snowballstemmer.stemmer("portuguese"), snowballstemmer.stemmer("english"))


def stems(text: str) -> frozenset[str]:
    """The Portuguese and English Snowball stems of the text's words of three letters or more
    ("devendo", "deve" → "dev"; "owes", "owing" → "owe"), folded."""
    words = _WORDS.findall(fold(text))
    return frozenset(stem for stemmer in _stemmers() for stem in stemmer.stemWords(words))
