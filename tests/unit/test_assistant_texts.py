"""The assistant's fixed texts and the handoff notices, read from the catalogue by kind."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.service import fixed_reply
from whatsapp_ai.conversation.notices import notice, took_over

FIXED = [
    "attachment_failed",
    "unsupported_message",
    "turn_failed",
    "erasure_confirm",
    "erasure_done",
    "voice_unavailable",
    "profile_name",
    "profile_timezone",
    "profile_language",
]
NOTICES = [
    "handoff_requested",
    "handoff_topic",
    "handoff_assistant",
    "handoff_operator",
    "human_took_over_unnamed",
    "assistant_back",
    "wait_timeout_resume",
    "wait_timeout_keep",
    "farewell",
]


@pytest.mark.parametrize("kind", FIXED)
@pytest.mark.parametrize("language", ["pt", "en"])
def test_every_fixed_reply_has_a_text_in_each_language(kind: str, language: str) -> None:
    assert fixed_reply(kind, language, name="Ana", zone="Europe/Lisbon")


def test_a_fixed_reply_is_filled_in() -> None:
    assert fixed_reply("profile_name", "pt", name="Ana") == "Combinado, vou te chamar de Ana."
    with pytest.raises(KeyError):
        fixed_reply("profile_name", "pt")
    assert fixed_reply("profile_timezone", "en", zone="Europe/Lisbon") == (
        "Sure, from now on I'll use Europe/Lisbon time."
    )
    assert fixed_reply("profile_language", "pt-BR") == (
        "Combinado, a partir de agora respondo em português."
    )


@pytest.mark.parametrize("kind", NOTICES)
@pytest.mark.parametrize("language", ["pt", "en"])
def test_every_notice_has_a_text_in_each_language(kind: str, language: str) -> None:
    assert notice(kind, language)


def test_a_conversation_without_a_language_is_told_in_portuguese() -> None:
    assert notice("farewell", None) == (
        "Por nada! Se precisar de algo, é só mandar mensagem. Até mais!"
    )
    assert took_over(None, None) == (
        "Uma pessoa da nossa equipe assumiu a conversa e vai te responder por aqui."
    )


def test_who_took_over_is_named_by_first_name() -> None:
    assert took_over("en", "  Bia Souza ") == (
        "Bia from our team has taken over and will answer you here."
    )
    assert took_over("pt", "Bia Souza") == (
        "Bia da nossa equipe assumiu a conversa e vai te responder por aqui."
    )
