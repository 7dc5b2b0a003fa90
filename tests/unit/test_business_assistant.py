"""A business's own assistant without a database: what it says it can do (only its agents, in
its own words, in the contact's language), small talk, the support requests it recognizes,
FAQ lines matched by informal words, and a new contact's locale from their number."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from whatsapp_ai.ai import settings
from whatsapp_ai.ai.agents.faq import best_lines
from whatsapp_ai.ai.agents.support import support_request
from whatsapp_ai.ai.offline import OfflineReplyStep, small_talk
from whatsapp_ai.ai.service import HistoryItem, TurnInput
from whatsapp_ai.ai.settings import TenantAssistant
from whatsapp_ai.ai.voice import Voice, greeting, help_text
from whatsapp_ai.core.i18n import text
from whatsapp_ai.identity.locale import locale_for

STORE = frozenset({"sales", "knowledge", "profile"})
FAQ = """# Doce Encanto
- Horário: segunda a sábado, das 9h às 19h
- Endereço: Rua das Flores, 120, Vila Mariana
- Bolo de aniversário: sim, sob encomenda, com 48h de antecedência
- Pagamento: pix, cartão de crédito e débito
"""


def _turn(message: str, agents: frozenset[str] | None = STORE, **extra: str) -> TurnInput:
    return TurnInput(
        tenant_id="t",
        tenant_name="Doce Encanto",
        contact_id="c",
        contact_name="Ana Souza",
        conversation_id="v",
        text=message,
        enabled_agents=agents,
        assistant_name=extra.get("name"),
        assistant_description=extra.get("description"),
    )


def test_the_personal_assistant_keeps_its_words() -> None:
    voice = Voice("Padaria")
    assert help_text("pt", voice) == text("pt", "assistant.help", tenant="Padaria")
    assert greeting("en", voice, ", Ana").startswith("Hello, Ana! This is Padaria's assistant.")


@pytest.mark.parametrize("language", ["pt", "en"])
def test_a_store_tells_only_its_own_agents_in_its_own_words(language: str) -> None:
    voice = Voice("Doce Encanto", STORE, "Bia", "Bolos caseiros sob encomenda")
    said = help_text(language, voice)
    assert "Bia" in said
    assert "Bolos caseiros sob encomenda" in said
    assert text(language, "support.can.sales") in said
    assert text(language, "support.can.knowledge") in said
    assert text(language, "support.can.finance") not in said
    assert text(language, "support.can.crm") not in said


async def test_greeting_help_and_what_can_you_do_follow_the_tenants_agents() -> None:
    step = OfflineReplyStep()
    for message in ("oi", "ajuda", "o que vc sabe fazer?"):
        reply = (await step.reply(_turn(message, name="Bia"))).text
        assert "Bia" in reply
        assert "produtos" in reply
        assert "gastos" not in reply
        assert "lembretes" not in reply
    english = (await step.reply(_turn("what can you do?"))).text
    assert "products" in english
    assert "expenses" not in english


async def test_are_you_a_bot_gets_an_honest_answer() -> None:
    step = OfflineReplyStep()
    assert "assistente virtual" in (await step.reply(_turn("vc e um robo?"))).text
    assert "virtual assistant" in (await step.reply(_turn("are you a bot?"))).text


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("tudo bem com vc?", "how_are_you"),
        ("boa noite, td certo por ai?", "how_are_you"),
        ("vc e um robo?", "bot"),
        ("are you a bot?", "bot"),
        ("o que vc sabe fazer?", "capabilities"),
        ("kkkkkkk", "ack"),
        ("que bot lerdo, demorou pra responder", "sorry"),
        ("como ta meu saldo", None),
        ("tudo bem? gastei 50 no mercado", None),
        ("tudo bem? me lembra de ligar pro joao amanha", None),
        ("tudo bem? quanto gastei hoje?", None),
        ("oi;\ntudo bem?\nquanto gastei hoje?", None),
        ("oi;\ntudo bem?", "how_are_you"),
    ],
)
def test_small_talk_is_only_what_the_whole_message_says(message: str, kind: str | None) -> None:
    assert small_talk(message) == kind


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("vcs sao uma piada, paguei e nao recebi nada", "complaint"),
        ("you guys are a joke, I paid and got nothing", "complaint"),
        ("quero meu dinheiro de volta, o bolo chegou todo amassado", "refund"),
        ("I want a refund", "refund"),
        ("cancela o pedido", "cancel_order"),
        ("quero cancelar o pedido que fiz ontem", "cancel_order"),
        ("preciso desmarcar minha consulta de amanha", "appointment"),
        ("paguei 120 no pix, ja caiu?", "payment"),
        ("can I return a plant?", None),
        ("quanto ta o bolo de cenoura?", None),
    ],
)
def test_support_requests(message: str, kind: str | None) -> None:
    assert support_request(message) == kind


@pytest.mark.parametrize(
    ("question", "line"),
    [
        ("vcs fazem bolo de aniversario?", "48h"),
        ("onde fica a loja?", "Flores"),
        ("aceita cartao de debito?", "débito"),
        ("abre sabado?", "sábado"),
    ],
)
def test_informal_questions_find_their_faq_line(question: str, line: str) -> None:
    [found] = best_lines(question, [FAQ])
    assert line in found


def test_a_question_the_faq_does_not_answer_finds_nothing() -> None:
    assert best_lines("qual a capital da franca?", [FAQ]) == []


@pytest.mark.parametrize(
    ("address", "zone", "currency", "language"),
    [
        ("+5511999990001", "America/Sao_Paulo", "BRL", "pt-BR"),
        ("+5592999990001", "America/Manaus", "BRL", "pt-BR"),
        ("+12125550100", "America/New_York", "USD", "en"),
        ("+14155550100", "America/Los_Angeles", "USD", "en"),
        ("+15555550100", "America/New_York", "USD", "en"),  # no area: the country's main zone
        ("+351912345678", "Europe/Lisbon", "EUR", "pt-PT"),
        ("+447700900123", "Europe/London", "GBP", "en"),
        ("whatsapp:+12125550100", "America/New_York", "USD", "en"),
        ("not a number", "America/Sao_Paulo", "BRL", "pt-BR"),
    ],
)
def test_locale_from_the_number(address: str, zone: str, currency: str, language: str) -> None:
    found = locale_for(address)
    assert (found.timezone, found.currency, found.language) == (zone, currency, language)


def test_a_country_with_several_zones_keeps_the_tenants_when_it_is_one_of_them() -> None:
    assert locale_for("+351912345678", default_timezone="Atlantic/Azores").timezone == (
        "Atlantic/Azores"
    )


def test_agent_names_as_the_readme_says() -> None:
    assert settings.stored_agents(["agenda", "crm", "profile"]) == ["crm", "profile"]
    assert settings.shown_agents(["crm", "sales"]) == ["agenda", "sales"]
    assert settings.unknown_agents(["crm", "agenda", "astrology"]) == ["astrology"]


async def test_ok_after_a_question_is_left_to_the_agents() -> None:
    from whatsapp_ai.ai.agents.support import answer

    class _NoRouter:
        async def abest(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("small talk was not expected")

    turn = replace(
        _turn("ok", agents=None),
        history=[HistoryItem(author="assistant", body="Qual deles você quer apagar?")],
    )
    runtime = SimpleNamespace(ctx=SimpleNamespace(language="pt", contact_name="Ana"))
    found = await answer(
        turn,
        TenantAssistant(),
        runtime,
        OfflineReplyStep(),
        _NoRouter(),
        (),  # type: ignore[arg-type]
    )
    assert found is None
