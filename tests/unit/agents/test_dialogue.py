"""Where a conversation stands: answers to the assistant's question, elliptical follow-ups,
new requests, expiry, and the line every model reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from whatsapp_ai.ai import dialogue
from whatsapp_ai.ai.agents.context import Moment, dialogue_line, read_header
from whatsapp_ai.ai.agents.finance import naming
from whatsapp_ai.ai.agents.relationships import planner
from whatsapp_ai.ai.dialogue import Dialogue, Reading

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)

ASKED = Dialogue(
    intent="finance.add_expense",
    question="Qual foi o valor?",
    pending_intent="finance.add_expense",
    pending_text="comprei um tenis parcelado em 3x",
    updated_at=NOW,
)
QUERIED = Dialogue(
    intent="finance.query",
    slots={"kind": "expense", "start": "2026-02-01", "end": "2026-02-28", "category": None},
    updated_at=NOW,
)


def test_an_answer_fills_the_pending_request_under_its_intent() -> None:
    reading = dialogue.read(
        "349,99", intent="finance.add_income", agent="finance", score=0.5, state=ASKED
    )
    assert reading == Reading(
        "answer", "finance.add_expense", "comprei um tenis parcelado em 3x 349,99"
    )


def test_an_answer_keeps_the_intent_of_any_agent() -> None:
    asked = Dialogue(
        intent="crm.add_reminder",
        question="Para quando?",
        pending_intent="crm.add_reminder",
        pending_text="me lembra de pagar a luz",
        updated_at=NOW,
    )
    reading = dialogue.read(
        "amanhã 9h", intent="crm.add_meeting", agent="crm", score=0.6, state=asked
    )
    assert (reading.how, reading.intent) == ("answer", "crm.add_reminder")
    assert reading.text == "me lembra de pagar a luz amanhã 9h"


def test_a_router_sure_of_another_agent_is_a_new_request_not_an_answer() -> None:
    reading = dialogue.read(
        "qual o horario de voces?",
        intent="knowledge.ask",
        agent="knowledge",
        score=0.9,
        state=ASKED,
    )
    assert reading.how == "new"


def test_a_long_message_is_a_request_of_its_own() -> None:
    text = "me lembra amanha de ligar pro contador sobre o imposto de renda deste ano"
    reading = dialogue.read(text, intent="crm.add_reminder", agent="crm", score=0.5, state=ASKED)
    assert reading == Reading("new", "crm.add_reminder", text)


def test_elliptical_follow_ups_keep_the_last_intent_in_both_languages() -> None:
    for text in ("e com uber?", "e no mês passado?", "what about last month?", "and uber?"):
        reading = dialogue.read(text, intent="crm.list", agent="crm", score=0.4, state=QUERIED)
        assert (reading.how, reading.intent, reading.text) == ("follow_up", "finance.query", text)


def test_a_sure_router_for_another_agent_beats_the_thread() -> None:
    reading = dialogue.read(
        "e me lembra de ligar pro joao",
        intent="crm.add_reminder",
        agent="crm",
        score=0.9,
        state=QUERIED,
    )
    assert reading.how == "new"


def test_without_a_previous_request_nothing_is_carried_over() -> None:
    reading = dialogue.read(
        "e com uber?", intent="finance.query", agent="finance", score=0.4, state=Dialogue()
    )
    assert reading.how == "new"


def test_a_follow_up_carries_the_slots_and_changes_what_it_names() -> None:
    reading = Reading("follow_up", "finance.query", "e com uber?")
    args = {"kind": "expense", "start": "2026-02-01", "end": "2026-02-28", "category": "transport"}
    after = dialogue.after(
        QUERIED, reading=reading, calls=[("finance_report", args, {})], reply="R$ 38,00", now=NOW
    )
    assert after.intent == "finance.query"
    assert after.slots["category"] == "transport"
    assert after.slots["start"] == "2026-02-01"
    assert after.question is None


def test_a_question_without_a_write_leaves_the_request_pending() -> None:
    reading = Reading("new", "finance.add_expense", "paguei o uber ontem")
    after = dialogue.after(
        Dialogue(), reading=reading, calls=[], reply="Qual foi o valor?", now=NOW
    )
    assert after.question == "Qual foi o valor?"
    assert after.pending_intent == "finance.add_expense"
    assert after.pending_text == "paguei o uber ontem"


def test_a_done_request_closes_the_question_and_keeps_the_record() -> None:
    reading = Reading("answer", "finance.add_expense", "paguei o uber ontem foi 26")
    after = dialogue.after(
        ASKED,
        reading=reading,
        calls=[
            ("record_expense", {"amount": "26.00", "category": "transport"}, {"entry_id": "E1"})
        ],
        reply="Anotei: gasto de R$ 26,00 em transporte, ontem.",
        now=NOW,
    )
    assert after.question is None
    assert after.pending_intent is None
    assert after.slots == {"category": "transport", "record": "E1"}


def test_a_quiet_conversation_starts_afresh() -> None:
    assert ASKED.live(NOW + timedelta(minutes=5)) == ASKED
    assert ASKED.live(NOW + dialogue.TTL + timedelta(seconds=1)) == Dialogue()
    assert Dialogue().live(NOW) == Dialogue()


def test_the_dialogue_line_is_read_back_by_the_offline_model() -> None:
    system = "\n".join(
        [
            "prompt",
            "[context] now=2026-03-04T10:00:00-03:00 tz=America/Sao_Paulo language=pt",
            "[route] intent=finance.query",
            dialogue_line(QUERIED.shown()),
        ]
    )
    moment = read_header(system)
    assert moment is not None
    assert moment.intent == "finance.query"
    assert moment.dialogue["intent"] == "finance.query"
    assert moment.dialogue["slots"]["start"] == "2026-02-01"


def test_an_empty_state_shows_nothing() -> None:
    assert Dialogue().shown() == {}
    assert "question" in ASKED.shown()


def test_an_entry_keeps_the_persons_own_word() -> None:
    assert naming.description("gastei 35 no ifood ontem") == "ifood"
    assert naming.description("comprei um tenis de 349,99 parcelado em 3x") == "tenis"
    assert naming.description("paguei o aluguel no pix") == "aluguel"
    assert naming.description("spent 12 on coffee yesterday") == "coffee"
    assert naming.description("gastei 50 hoje") is None


def test_a_correction_names_its_entry_and_the_amount_it_replaces() -> None:
    assert naming.named("o do mercado foi 44, corrige ai") == "mercado"
    assert naming.named("apaga o uber") == "uber"
    assert naming.named("delete the coffee one") == "coffee"
    assert naming.named("apaga o ultimo lancamento") is None
    assert naming.named("muda a categoria pra mercado") is None
    assert (
        str(naming.new_and_old("a internet nao era 75, era 99,90"))
        == "(Decimal('99.90'), Decimal('75.00'))"
    )
    assert str(naming.new_and_old("the coffee was 6 not 5")) == "(Decimal('6.00'), Decimal('5.00'))"
    assert naming.corrects("o ifood foi 53, errei")
    assert not naming.corrects("gastei 53 no ifood")


def test_a_short_remark_the_router_cannot_place_is_about_the_record_just_made() -> None:
    recorded = Dialogue(intent="finance.add_expense", slots={"record": "E1"}, updated_at=NOW)
    reading = dialogue.read(
        "the dinner was actually yesterday", intent=None, agent=None, score=0.0, state=recorded
    )
    assert (reading.how, reading.intent) == ("follow_up", "finance.edit_last")
    assert dialogue.read("hmm", intent=None, agent=None, score=0.0, state=QUERIED).how == "new"


def test_a_correction_right_after_a_record_changes_that_record() -> None:
    reminded = Dialogue(intent="crm.add_reminder", slots={"record": "R1"}, updated_at=NOW)
    for said in ("melhor 16h", "opa, quinta*", "na vdd é as 16h, muda ai"):
        reading = dialogue.read(said, intent=None, agent=None, score=0.3, state=reminded)
        assert (reading.how, reading.intent) == ("follow_up", "crm.move"), said
    spent = Dialogue(intent="finance.add_expense", slots={"record": "E1"}, updated_at=NOW)
    reading = dialogue.read("*83", intent=None, agent=None, score=0.0, state=spent)
    assert reading.intent == "finance.edit_last"
    # Nothing was made: a remark is not a correction of anything.
    asked = Dialogue(intent="crm.add_reminder", slots={}, updated_at=NOW)
    assert dialogue.read("melhor 16h", intent=None, agent=None, score=0.3, state=asked).how == "new"


def test_a_longer_follow_up_that_points_back_keeps_the_thread() -> None:
    assert dialogue.elliptical("e amanha no mesmo horario de regar as plantas")
    assert dialogue.elliptical("and tomorrow at the same time too, water the plants")
    assert not dialogue.elliptical("e amanha tenho que levar o carro na oficina pra revisao")


def test_a_reminder_follow_up_takes_the_last_reminders_moment() -> None:
    state = {"intent": "crm.add_reminder", "slots": {"due_at": "2026-03-05T20:00:00-03:00"}}
    moment = Moment(NOW, "America/Sao_Paulo", "pt", "crm.add_reminder", state)
    same = planner.plan("crm.add_reminder", "e de pagar a internet tbm", moment)
    assert same.calls == [
        ("add_reminder", {"text": "pagar a internet", "due_at": "2026-03-05T20:00:00-03:00"})
    ]
    later = planner.plan(
        "crm.add_reminder", "e depois de amanha no mesmo horario de regar as plantas", moment
    )
    assert later.calls == [
        ("add_reminder", {"text": "regar as plantas", "due_at": "2026-03-06T20:00:00-03:00"})
    ]
    fresh = planner.plan("crm.add_reminder", "me lembra de comprar pao", moment)
    assert fresh.calls == []


def test_a_follow_up_task_without_its_own_verb_takes_the_last_ones() -> None:
    state = {
        "intent": "crm.add_reminder",
        "slots": {"due_at": "2026-03-05T18:00:00-03:00", "text": "buy flowers"},
    }
    moment = Moment(NOW, "America/Sao_Paulo", "en", "crm.add_reminder", state)
    card = planner.plan("crm.add_reminder", "and a card too", moment)
    assert card.calls == [
        ("add_reminder", {"text": "buy a card", "due_at": "2026-03-05T18:00:00-03:00"})
    ]
    state["slots"]["text"] = "comprar pao"
    moment = Moment(NOW, "America/Sao_Paulo", "pt", "crm.add_reminder", state)
    milk = planner.plan("crm.add_reminder", "e leite tb", moment)
    assert [c[1]["text"] for c in milk.calls] == ["comprar leite"]
    own = planner.plan("crm.add_reminder", "e de pagar a internet tb", moment)
    assert [c[1]["text"] for c in own.calls] == ["pagar a internet"]


def test_a_warning_after_a_reminder_is_for_the_same_task() -> None:
    state = {
        "intent": "crm.add_reminder",
        "slots": {"due_at": "2026-03-06T15:00:00-03:00", "text": "ir na consulta do dermato"},
    }
    moment = Moment(NOW, "America/Sao_Paulo", "pt", "crm.add_reminder", state)
    ahead = planner.plan("crm.add_reminder", "e me avisa 1h antes tb", moment)
    assert ahead.calls == [
        (
            "add_reminder",
            {"text": "ir na consulta do dermato", "due_at": "2026-03-06T14:00:00-03:00"},
        )
    ]


def test_a_time_of_day_already_reached_asks_which_day() -> None:
    moment = Moment(NOW, "America/Sao_Paulo", "pt", "crm.add_reminder", {})
    asked = planner.plan("crm.add_reminder", "me lembra de pagar o IPVA as 10h", moment)
    assert asked.calls == []
    assert asked.text.endswith("qual dia?")
    answered = planner.plan("crm.add_reminder", "me lembra de pagar o IPVA as 10h dia 12", moment)
    assert [c[1]["due_at"] for c in answered.calls] == ["2026-03-12T10:00:00-03:00"]


def test_a_position_in_the_list_just_shown_names_its_item() -> None:
    listed = Dialogue(
        intent="crm.list_reminders", slots={"listed": ["R1", "R2", "M1"]}, updated_at=NOW
    )
    cancel = dialogue.read("cancela o segundo", intent=None, agent=None, score=0.0, state=listed)
    assert (cancel.how, cancel.intent) == ("follow_up", "crm.cancel")
    move = dialogue.read(
        "push the second one to the 12th", intent=None, agent=None, score=0.0, state=listed
    )
    assert move.intent == "crm.move"


def test_a_pronoun_points_at_the_record_just_made() -> None:
    reminded = Dialogue(intent="crm.add_reminder", slots={"record": "R1"}, updated_at=NOW)
    moved = dialogue.read("muda ele pra 15h", intent=None, agent=None, score=0.3, state=reminded)
    assert moved.intent == "crm.move"
    gone = dialogue.read("delete it", intent=None, agent=None, score=0.3, state=reminded)
    assert gone.intent == "crm.cancel"
    spent = Dialogue(intent="finance.add_expense", slots={"record": "E1"}, updated_at=NOW)
    dated = dialogue.read("isso foi anteontem", intent=None, agent=None, score=0.3, state=spent)
    assert dated.intent == "finance.edit_last"


def test_saying_a_mistake_was_made_is_not_a_request_of_its_own() -> None:
    assert dialogue.only_a_mistake("opa, lancei errado")
    assert dialogue.only_a_mistake("errei")
    assert not dialogue.only_a_mistake("errei, foi 45")


def test_a_question_after_a_record_is_a_question_of_its_own() -> None:
    spent = Dialogue(intent="finance.add_expense", slots={"record": "E1"}, updated_at=NOW)
    reading = dialogue.read(
        "e quanto gastei hj?", intent="finance.query", agent="finance", score=0.5, state=spent
    )
    assert (reading.how, reading.intent) == ("new", "finance.query")
    followed = dialogue.read("e de uber?", intent=None, agent=None, score=0.0, state=QUERIED)
    assert (followed.how, followed.intent) == ("follow_up", "finance.query")


def test_a_new_category_right_after_a_record_changes_that_record() -> None:
    spent = Dialogue(intent="finance.add_expense", slots={"record": "E1"}, updated_at=NOW)
    for said in ("coloca como mercado", "put it under groceries"):
        reading = dialogue.read(said, intent=None, agent=None, score=0.3, state=spent)
        assert reading.intent == "finance.edit_last", said
    assert dialogue.only_a_mistake("nao")
