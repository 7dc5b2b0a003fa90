"""The intent catalogue is data the router can trust: unique, bilingual, compiled."""

from __future__ import annotations

import re
import unicodedata

import pytest

from whatsapp_ai.ai.router import ASSISTANT, INTENTS, OFF_TOPIC, IntentRouter, get_encoder
from whatsapp_ai.core.text import fold

# Words that mark an example as English; an example with none of them is Portuguese.
_ENGLISH = re.compile(
    r"\b(?:the|my|to|on|for|of|from|with|at|in|and|i|you|your|what|how|is|it|that|hi|hello|hey"
    r"|good|thanks|thank|thx|help|appreciate|checkout|monthly|call|please|new|save|add|delete)\b"
)


def test_intent_ids_are_unique_and_name_their_agent() -> None:
    ids = [intent.id for intent in INTENTS]
    assert len(set(ids)) == len(ids)
    for intent in INTENTS:
        assert intent.agent == ASSISTANT or intent.id.startswith(f"{intent.agent}."), intent.id


@pytest.mark.parametrize("intent", INTENTS, ids=lambda intent: intent.id)
def test_each_intent_has_portuguese_and_english_examples(intent: object) -> None:
    from whatsapp_ai.ai.router import Intent

    assert isinstance(intent, Intent)
    assert 8 <= len(intent.examples) <= 15
    folded = [fold(example) for example in intent.examples]
    assert len(set(folded)) == len(folded)
    english = [text for text in folded if _ENGLISH.search(text)]
    assert 3 <= len(english) <= len(folded) - 5, english


def test_examples_are_written_with_and_without_accents() -> None:
    examples = [example for intent in INTENTS for example in intent.examples]
    accented = [e for e in examples if unicodedata.normalize("NFKD", e) != e]
    assert accented
    assert any(re.search(r"\b(?:nao|voce|ultimo|mes|ai)\b", e) for e in examples)


def test_keyword_patterns_fit_folded_text() -> None:
    # Patterns run on folded text: an upper-case letter or an accent could never match.
    for intent in INTENTS:
        for pattern in intent.keywords:
            re.compile(pattern)
            assert pattern == pattern.lower(), pattern
            assert unicodedata.normalize("NFKD", pattern) == pattern, pattern


def test_off_topic_examples_are_not_intent_examples() -> None:
    examples = {fold(example) for intent in INTENTS for example in intent.examples}
    assert not examples.intersection(fold(text) for text in OFF_TOPIC)


def test_router_refuses_a_malformed_catalogue() -> None:
    with pytest.raises(ValueError, match="unique"):
        IntentRouter(get_encoder(), intents=(INTENTS[0], INTENTS[0]))
