"""Telling Portuguese from English in short chat messages.

Chat words decide first ("vc", "hj", "spent", "the"): people type them, and a detector trained on
prose does not know them. When they say too little, Lingua's detector (n-gram models shipped in
the package, restricted to the two languages) reads a sentence of three words or more, and its
verdict counts when it is sure ("Lily lives in Austin", "Nina works at Spotify").
"""

from __future__ import annotations

import re
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from whatsapp_ai.core.text import fold

# Chat words this many apart decide alone.
DECISIVE = 2
# Lingua decides only on this many words or more, and this sure.
MODEL_WORDS = 3
MODEL_CONFIDENCE = 0.85
_CODES = {Language.ENGLISH: "en", Language.PORTUGUESE: "pt"}

_WORD = re.compile(r"[a-z']+")
_EN = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "good",
        "morning",
        "evening",
        "thanks",
        "thank",
        "you",
        "please",
        "what",
        "how",
        "when",
        "where",
        "why",
        "who",
        "can",
        "could",
        "would",
        "i",
        "my",
        "the",
        "is",
        "are",
        "do",
        "does",
        "help",
        "want",
        "need",
        "spent",
        "spend",
        "paid",
        "pay",
        "received",
        "got",
        "earned",
        "bought",
        "on",
        "for",
        "at",
        "of",
        "to",
        "and",
        "remind",
        "me",
        "tomorrow",
        "today",
        "yesterday",
        "last",
        "this",
        "next",
        "much",
        "many",
        "did",
        "salary",
        "rent",
        "lunch",
        "dinner",
        "groceries",
        "meeting",
        "with",
        "from",
        "was",
        "have",
        "it",
        "that",
        "week",
        "month",
    ]
)
_PT = frozenset(
    [
        "oi",
        "ola",
        "bom",
        "dia",
        "boa",
        "tarde",
        "noite",
        "obrigado",
        "obrigada",
        "por",
        "favor",
        "que",
        "como",
        "quando",
        "onde",
        "quem",
        "pode",
        "poderia",
        "eu",
        "meu",
        "minha",
        "voce",
        "e",
        "sao",
        "ajuda",
        "quero",
        "preciso",
        "nao",
        "sim",
        "tudo",
        "bem",
        "me",
        "chame",
        "chamar",
        "de",
        "do",
        "da",
        "um",
        "uma",
        "para",
        "com",
        "meus",
        "dados",
        "gastei",
        "paguei",
        "recebi",
        "ganhei",
        "comprei",
        "no",
        "na",
        "lembra",
        "lembrete",
        "amanha",
        "hoje",
        "ontem",
        "quanto",
        "qual",
        "mes",
        "semana",
        "reais",
        "conto",
        "aluguel",
        "mercado",
        "reuniao",
        "pra",
        "pro",
        "em",
        "os",
        "as",
        "foi",
        "tenho",
        "hj",
        "vc",
    ]
)


def words(text: str) -> list[str]:
    """The folded words of ``text`` ("Não é" → ["nao", "e"])."""
    return _WORD.findall(fold(text))


@cache
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_CODES).build()


def detect_language(text: str, default: str = "pt") -> str:
    """'en' or 'pt' by the chat words, else the model when it is sure; ``default`` when
    unsure."""
    found = words(text)
    en = sum(word in _EN for word in found)
    pt = sum(word in _PT for word in found)
    if abs(en - pt) >= DECISIVE:
        return "en" if en > pt else "pt"
    if len(found) >= MODEL_WORDS:
        best = _detector().compute_language_confidence_values(text)[0]
        if best.value >= MODEL_CONFIDENCE:
            return _CODES[best.language]
    if en != pt:
        return "en" if en > pt else "pt"
    return default


def conversation_language(text: str, earlier: list[str], default: str | None = None) -> str:
    """The language of ``text``; when it says too little, that of the latest telling message,
    else ``default`` (the one assumed from the contact's number)."""
    for candidate in (text, *reversed(earlier)):
        language = detect_language(candidate, default="")
        if language:
            return language
    return preferred_language(default) or "pt"


def assumed_language(preferences: dict[str, object]) -> str | None:
    """The language assumed for a contact from their number's country, if any."""
    value = preferences.get("language")
    return value if isinstance(value, str) else None


SUPPORTED = ("pt", "en")


def preferred_language(setting: str | None) -> str | None:
    """The supported language a contact chose ("pt-BR" → "pt"), if any."""
    code = (setting or "").split("-")[0].lower()
    return code if code in SUPPORTED else None
