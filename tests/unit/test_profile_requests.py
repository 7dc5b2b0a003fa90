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
