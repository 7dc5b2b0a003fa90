"""Recognizing a message that ends the conversation (PT and EN)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.ai.closing import (
    ACKNOWLEDGEMENTS,
    CLOSE_REQUESTS,
    FAREWELLS,
    FILLERS,
    SIGN_OFF_GREETINGS,
    THANKS,
    THATS_ALL,
    wants_to_close,
)

CLOSES = [
    "obrigado, tchau",
    "valeu, até mais!",
    "thanks, bye",
    "that's all, thank you",
    "that’s all, thank you",
    "ok obrigado, era só isso",
    "pode encerrar",
    "obrigada! tchau 😊",
    "obg, flw",
    "vlw, tchau tchau",
    "falou!",
    "OBRIGADO, TCHAU",
    "tchauuu",
    "Obrigado, boa noite!",
    "ok, boa noite",
    "não, obrigado, tchau",
    "não preciso de mais nada, obrigado",
    "nao preciso de mais nada, obrigado",
    "era so isso",
    "nothing else, thanks 👍",
    "thanks so much, have a nice day",
    "good night",
    "bye",
    "Bye!!! 🙏",
    "see you later!",
    "close the chat",
    "encerrar atendimento",
    "era isso mesmo, valeu 🙏",
    "perfeito, muito obrigado pela ajuda, até logo",
    "ok thanks, that's it",
    "Beleza, só isso mesmo",
    "tudo certo, obrigado, bom fim de semana",
    "kkk valeu, falou",
    "I'm all set, thanks!",
    "thank you, goodbye",
    "brigado, até amanhã",
    "pode encerrar o atendimento, obrigado",
    "you can close the chat now",
    "ok, é só isso por hoje. abraço",
    "thx, cya",
]
STAYS_OPEN = [
    "obrigado, e quanto gastei ontem?",
    "thanks! what about yesterday?",
    "tchau? como assim?",
    "bye?",
    "obrigado",
    "obrigada!",
    "obg",
    "thanks",
    "ok",
    "ok 👍",
    "👍",
    "não, obrigado",
    "no thanks",
    "bye the way, how much did I spend",
    "boa noite, quero saber meu saldo",
    "boa noite",
    "Boa noite!",
    "bom dia",
    "boa noite, tudo bem",
    "boa noite, obrigado pelo retorno",
    "tchau tchau, mas antes me diz o saldo",
    "obrigado, tchau. Ah, esqueci: gastei 30 no uber",
    "thanks, and add 20 for lunch",
    "gastei 50 no mercado",
    "falou com o gerente",
    "see you at the store",
    "quero encerrar minha conta",
    "oi tudo bem",
    "hi",
    "",
]


@pytest.mark.parametrize("text", CLOSES)
def test_closing_talk_with_an_ending_signal_closes(text: str) -> None:
    assert wants_to_close(text)


@pytest.mark.parametrize("text", STAYS_OPEN)
def test_anything_else_keeps_the_conversation_open(text: str) -> None:
    assert not wants_to_close(text)


QUESTIONS = ["e qual meu saldo?", "what about yesterday?", "?", "quanto gastei ontem?"]
CONTENT = ["quero ver meu saldo", "gastei 50 no mercado", "add 20 for lunch", "fatura", "pix"]


@given(text=st.sampled_from(CLOSES), question=st.sampled_from(QUESTIONS) | st.text())
def test_a_question_keeps_it_open(text: str, question: str) -> None:
    assert not wants_to_close(f"{text} {question}?")
    assert not wants_to_close(f"{question}? {text}")


@given(text=st.sampled_from(CLOSES), content=st.sampled_from(CONTENT), first=st.booleans())
def test_any_other_content_keeps_it_open(text: str, content: str, first: bool) -> None:
    assert not wants_to_close(f"{content}, {text}" if first else f"{text}, {content}")


@given(
    text=st.sampled_from(CLOSES + STAYS_OPEN),
    emojis=st.text(alphabet="👍🙏😊❤️🙂 !.", max_size=6),
)
def test_case_and_trailing_emojis_do_not_matter(text: str, emojis: str) -> None:
    expected = wants_to_close(text)
    assert wants_to_close(text.upper()) is expected
    assert wants_to_close(f"{text} {emojis}") is expected


COURTESY = THANKS + ACKNOWLEDGEMENTS + FILLERS
ENDINGS = FAREWELLS + THATS_ALL + CLOSE_REQUESTS


@given(parts=st.lists(st.sampled_from(COURTESY), max_size=5))
def test_thanks_and_acknowledgements_alone_never_close(parts: list[str]) -> None:
    assert not wants_to_close(", ".join(parts))


@given(
    before=st.lists(st.sampled_from(COURTESY), max_size=3),
    ending=st.sampled_from(ENDINGS),
    after=st.lists(st.sampled_from(COURTESY), max_size=3),
)
def test_an_ending_among_closing_talk_closes(
    before: list[str], ending: str, after: list[str]
) -> None:
    assert wants_to_close(", ".join([*before, ending, *after]))


@given(greeting=st.sampled_from(SIGN_OFF_GREETINGS), thanks=st.sampled_from(THANKS))
def test_a_greeting_signs_off_only_after_thanks(greeting: str, thanks: str) -> None:
    assert wants_to_close(f"{thanks}, {greeting}")
    assert not wants_to_close(f"{greeting}, {thanks}")
    assert not wants_to_close(greeting)


def test_the_vocabularies_do_not_overlap() -> None:
    groups = [THANKS, ACKNOWLEDGEMENTS, FILLERS, SIGN_OFF_GREETINGS, ENDINGS]
    for i, group in enumerate(groups):
        for other in groups[i + 1 :]:
            assert not set(group) & set(other)
