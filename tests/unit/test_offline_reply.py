"""The offline reply step: honest, short, in the user's language."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.language import detect_language
from whatsapp_ai.ai.offline import OfflineReplyStep, complains
from whatsapp_ai.ai.service import HistoryItem, TurnInput


def _turn(
    text: str, name: str | None = "Ana Souza", history: list[HistoryItem] | None = None
) -> TurnInput:
    return TurnInput(
        tenant_id="t",
        tenant_name="Padaria Pão Quente",
        contact_id="c",
        contact_name=name,
        conversation_id="v",
        text=text,
        history=history or [],
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("oi, tudo bem?", "pt"),
        ("Olá! Bom dia", "pt"),
        ("quero saber o preço do pão", "pt"),
        ("hello, can you help me?", "en"),
        ("what time do you open?", "en"),
        ("12345", "pt"),
        # no chat word says it: the model reads the sentence
        ("Lily lives in Austin", "en"),
        ("Nina works at Spotify as a data engineer", "en"),
        ("a Bia trabalha na Globo", "pt"),
        # chat words the model does not know
        ("blz mano", "pt"),
        ("vc e um robo?", "pt"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


async def test_greeting_uses_first_name_and_tenant() -> None:
    reply = await OfflineReplyStep().reply(_turn("oi"))
    assert reply.text.startswith("Olá, Ana! Aqui é o assistente de Padaria Pão Quente.")
    assert reply.language == "pt"
    assert reply.model == "offline-basic"


async def test_what_it_did_not_understand_it_says_so_and_offers_help() -> None:
    reply = await OfflineReplyStep().reply(_turn("bla bla bla", name=None))
    assert reply.text.startswith("Não entendi bem o que você precisa.")
    assert "Ana" not in reply.text


async def test_help_and_thanks_in_english() -> None:
    step = OfflineReplyStep()
    assert "I can record expenses" in (await step.reply(_turn("help"))).text
    assert (await step.reply(_turn("thanks!"))).text.startswith("You're welcome, Ana!")


async def test_ambiguous_text_follows_the_conversation_language() -> None:
    history = [HistoryItem(author="user", body="hello, I need help")]
    reply = await OfflineReplyStep().reply(_turn("ok", history=history))
    assert reply.language == "en"


def test_a_long_complaint_is_told_apart_from_a_plain_request() -> None:
    assert complains("mano vc e mt burro, anotou meu gasto errado ontem")
    assert complains("pqp vc nao entende nada, ja falei 3x")
    assert not complains("gastei 50 no mercado ontem")
    # "lixo", "droga": the trash to take out, unless said of the assistant
    assert complains("que lixo de bot")
    assert complains("droga, errou de novo")
    assert not complains("me lembra de levar o lixo")
    assert not complains("demorou!")
    assert complains("mano vc n entendeu nada")
