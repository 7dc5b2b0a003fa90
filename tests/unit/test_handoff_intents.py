"""Recognizing a request for a human and the tenant's handoff topics (PT and EN)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.ai.handoff import asks_for_human, mentions_topic

ASKS = [
    "quero falar com um atendente",
    "me passa pra um humano",
    "pode me transferir para um atendente?",
    "falar com alguém de verdade",
    "atendimento humano",
    "atendente",
    "atendente por favor",
    "quero falar com uma pessoa",
    "chama o gerente",
    "obrigado, mas quero falar com um atendente",
    "Quero falar com um ATENDENTE!!",
    "quero atendente",
    "preciso de um humano",
    "tem algum atendente aí?",
    "quero ser atendido por uma pessoa",
    "não, quero falar com atendente",
    "nao quero mais o robo quero um atendente",
    "posso falar com o responsável?",
    "oi, atendente pfv",
    "HUMANO!!!",
    "me transfere pra alguém do suporte",
    "preciso de atendimento humano urgente",
    "quero falar com um humano 🙏",
    "talk to a human",
    "I want to speak to a real person",
    "agent please",
    "can I talk to someone from support",
    "human!",
    "representative",
    "operator",
    "I need a human",
    "get me a human",
    "transfer me to an agent",
    "is there a live agent?",
    "I don’t want a bot, I want a human",
    "can you connect me with a representative",
    "I'd like to speak with your manager",
    "Live agent please",
    "no, I want to talk to a person",
]
DOES_NOT_ASK = [
    "não quero falar com atendente",
    "nunca mais quero falar com atendente",
    "I don't need a human",
    "I don’t need a human",
    "do not transfer me to an agent",
    "você é humano?",
    "are you a human or a bot?",
    "am I talking to a human?",
    "estou falando com um robô?",
    "o atendente de ontem foi ótimo",
    "the agent was rude yesterday",
    "I talked to an agent yesterday",
    "my agent will call you",
    "the operator charged me twice",
    "gastei 50 no mercado",
    "humanidade",
    "pessoas jurídicas",
    "quero abrir conta pessoa jurídica",
    "pessoa física",
    "human resources policy",
    "I need the human resources policy",
    "como se chama o gerente?",
    "preciso falar com meu gerente antes de aprovar",
    "preciso de alguém para consertar meu carro",
    "me chame de Ana",
    "obrigado pelo atendimento",
    "qual o horário de atendimento?",
    "talk to you later",
    "atendimento",
    "pessoa",
    "",
]


@pytest.mark.parametrize("text", ASKS)
def test_a_request_for_a_person_is_recognized(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize("text", DOES_NOT_ASK)
def test_mentioning_a_person_or_refusing_one_is_not_a_request(text: str) -> None:
    assert not asks_for_human(text)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@given(
    text=st.sampled_from(ASKS + DOES_NOT_ASK),
    upper=st.lists(st.booleans(), min_size=60, max_size=60),
    strip=st.booleans(),
)
def test_case_and_accents_do_not_matter(text: str, upper: list[bool], strip: bool) -> None:
    expected = asks_for_human(text)
    changed = "".join(c.upper() if upper[i % len(upper)] else c.lower() for i, c in enumerate(text))
    assert asks_for_human(_strip_accents(changed) if strip else changed) is expected


PT_PEOPLE = ["um atendente", "uma pessoa", "um humano", "alguém de verdade", "o gerente"]
EN_PEOPLE = ["a human", "a real person", "an agent", "someone", "a representative"]
UNRELATED = ["gastei 50 no mercado.", "oi!", "thanks for the info.", "meu saldo tá errado."]


@given(person=st.sampled_from(PT_PEOPLE), before=st.sampled_from(["", *UNRELATED]))
def test_pt_request_and_its_negation(person: str, before: str) -> None:
    assert asks_for_human(f"{before} quero falar com {person}")
    assert not asks_for_human(f"{before} não quero falar com {person}")


@given(person=st.sampled_from(EN_PEOPLE), before=st.sampled_from(["", *UNRELATED]))
def test_en_request_and_its_negation(person: str, before: str) -> None:
    assert asks_for_human(f"{before} I want to talk to {person}")
    assert not asks_for_human(f"{before} I don't want to talk to {person}")


@given(text=st.sampled_from(ASKS), lead=st.sampled_from(UNRELATED))
def test_a_request_after_other_talk_still_counts(text: str, lead: str) -> None:
    assert asks_for_human(f"{lead} {text}")


TOPICS = ["reembolso", "cancelar assinatura", "", "   ", "Cartão de crédito", "policy", "PIX"]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("quero um reembolso", "reembolso"),
        ("quero dois REEMBOLSOS", "reembolso"),
        ("Reembolso!", "reembolso"),
        ("quero cancelar assinatura", "cancelar assinatura"),
        ("quero cancelar a assinatura", "cancelar assinatura"),
        ("quero cancelar minha assinatura", "cancelar assinatura"),
        ("cancelar as assinaturas", "cancelar assinatura"),
        ("meus cartões de crédito", "Cartão de crédito"),
        ("cartao de credito", "Cartão de crédito"),
        ("refund policies?", "policy"),
        ("mandei um pix", "PIX"),
        ("reembolso do pix", "reembolso"),
        ("pixel art", None),
        ("cancelar toda a assinatura", None),
        ("assinatura cancelada", None),
        ("reembolsável", None),
        ("gastei 50 no mercado", None),
        ("", None),
    ],
)
def test_mentions_topic(text: str, topic: str | None) -> None:
    assert mentions_topic(text, TOPICS) == topic


def test_topics_come_in_configured_order() -> None:
    message = "quero cancelar a assinatura e pedir reembolso"
    assert mentions_topic(message, ["reembolso", "cancelar assinatura"]) == "reembolso"
    assert mentions_topic(message, ["cancelar assinatura", "reembolso"]) == "cancelar assinatura"


@pytest.mark.parametrize(
    ("topic", "text"),
    [
        ("cancel", "I cancelled my plan"),
        ("cancel", "canceling now"),
        ("cancel", "cancels"),
        ("refund", "refunded?"),
        ("viagem", "minhas viagens"),
        ("papel", "os papéis"),
        ("anual", "planos anuais"),
        ("cartão", "dois cartoes"),
        ("e-mail", "meu e-mail mudou"),
    ],
)
def test_topic_words_take_simple_inflections(topic: str, text: str) -> None:
    assert mentions_topic(text, [topic]) == topic


def test_blank_topics_never_match() -> None:
    assert mentions_topic("qualquer coisa", ["", " ", "!!!"]) is None
    assert mentions_topic("", []) is None


@given(
    topic=st.sampled_from(["Reembolso", "cancelar assinatura", "Cartão de Crédito", "2ª via"]),
    before=st.sampled_from(["", "oi, ", "sobre o "]),
    after=st.sampled_from(["", " por favor", "?", "!!"]),
)
def test_a_topic_is_found_in_any_case_and_without_accents(
    topic: str, before: str, after: str
) -> None:
    for written in (topic, topic.upper(), topic.lower(), _strip_accents(topic)):
        assert mentions_topic(f"{before}{written}{after}", ["outro", topic]) == topic
