"""A correction names the entry it changes as the sentence's subject, or says it corrects; a new
statement that merely contains an article is a new entry."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.agents.finance import naming


@pytest.mark.parametrize(
    ("text", "which"),
    [
        ("o do mercado foi 44", "mercado"),
        ("a internet foi 120", "internet"),
        ("the coffee was 6", "coffee"),
        ("ops o ifood foi 53", "ifood"),
        ("o mercado foi ontem na vdd", "mercado"),
    ],
)
def test_corrections_name_their_entry(text: str, which: str) -> None:
    assert naming.corrects(text)
    assert naming.named(text) == which


@pytest.mark.parametrize(
    "text",
    [
        "uber to the airport was like 80 bucks",
        "gastei 50 no mercado, o uber foi 20",
        "paguei a internet, foi 120",
    ],
)
def test_new_statements_are_not_corrections(text: str) -> None:
    assert not naming.corrects(text)
