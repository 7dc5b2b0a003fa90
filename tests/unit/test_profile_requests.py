"""Recognizing "call me ..." and "answer in ..." requests."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.profile import profile_changes


@pytest.mark.parametrize(
    ("text", "changes"),
    [
        ("me chame de Ana", {"display_name": "Ana"}),
        ("pode me chamar de ana paula, por favor", {"display_name": "Ana Paula"}),
        ("meu nome é João e quero saber o saldo", {"display_name": "João"}),
        ("call me bob please", {"display_name": "Bob"}),
        ("responda em inglês", {"language": "en"}),
        ("please reply in Portuguese", {"language": "pt-BR"}),
        ("Me chame de Ana e responda em inglês", {"display_name": "Ana", "language": "en"}),
        ("quanto gastei ontem?", {}),
        ("o inglês é difícil", {}),
    ],
)
def test_profile_changes(text: str, changes: dict[str, str]) -> None:
    assert profile_changes(text) == changes


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("moro em Lisboa agora", "Europe/Lisbon"),
        ("meu fuso é America/Manaus", "America/Manaus"),
        ("I live in New York", "America/New_York"),
        ("estou em Manaus", "America/Manaus"),
        ("my timezone is Europe/London", "Europe/London"),
    ],
)
def test_a_time_zone_is_understood(text: str, zone: str) -> None:
    assert profile_changes(text)["timezone"] == zone


@pytest.mark.parametrize(
    "text", ["gastei 50 em sao paulo", "estou em reunião", "moro em Narnia", "Mars/Olympus"]
)
def test_no_time_zone_is_invented(text: str) -> None:
    assert "timezone" not in profile_changes(text)
