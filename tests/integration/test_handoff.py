"""Human handoff end to end through the sandbox channel: asking for a person, the operators'
queue, assignment, operator replies, returning to the assistant, and the timers around them."""

from __future__ import annotations

import asyncio

import pytest

from tests.desk_support import ANA, BRUNO, Desk, DeskFactory
from whatsapp_ai.ai.service import Reply
from whatsapp_ai.core.events import Event

ACK = "Certo, vou chamar uma pessoa da nossa equipe."


async def test_asking_for_a_person_queues_the_conversation_and_silences_the_assistant(
    desk: Desk,
) -> None:
    await desk.say("oi")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    assert thread["status"] == "waiting_human"
    assert thread["handoff_reason"] == "the contact asked for a person"
    assert (await desk.outbox())[-1].startswith(ACK)

    await desk.say("alô? tem alguém aí?")
    assert len(await desk.outbox()) == 2  # no reply while waiting for a person
    assert len(desk.reply_step.turns) == 1
    queue = await desk.conversations(needs_human="true")
    assert [c["id"] for c in queue] == [thread["id"]]
    assert await desk.conversations(needs_human="false") == []
    assert [m["body"] for m in await desk.messages(thread["id"])][-1] == "alô? tem alguém aí?"


@pytest.mark.parametrize(
    "request_text",
    ["talk to a human", "me passa pra um atendente, por favor", "I want to speak to a real person"],
)
async def test_requests_in_either_language(desk: Desk, request_text: str) -> None:
    await desk.say(request_text)
    assert (await desk.current())["status"] == "waiting_human"


async def test_an_operator_takes_over_replies_and_gives_it_back(desk: Desk) -> None:
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()

    taken = await desk.act(thread["id"], "take", headers=marta.headers)
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["assignee_id"]) == ("with_human", marta.user_id)
    await desk.run()
    assert (await desk.outbox())[-1] == (
        "Marta da nossa equipe assumiu a conversa e vai te responder por aqui."
    )

    sent = await desk.client.post(
        f"/conversations/{thread['id']}/messages",
        json={"body": "Oi Ana, aqui é a Marta. Seu pedido sai hoje."},
        headers=marta.headers,
    )
    assert sent.status_code == 201, sent.text
    assert (sent.json()["author"], sent.json()["author_id"]) == ("operator", marta.user_id)
    await desk.run()
    assert (await desk.outbox())[-1] == "Oi Ana, aqui é a Marta. Seu pedido sai hoje."

    await desk.say("obrigada!")  # goes to Marta, not to the assistant
    assert len(desk.reply_step.turns) == 0

    back = await desk.act(thread["id"], "return", headers=marta.headers)
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "active"
    await desk.run()
    assert (await desk.outbox())[-1].startswith("O atendimento com a equipe terminou")

    await desk.say("e o frete?")
    assert (await desk.outbox())[-1] == "eco: e o frete?"
    seen = [(h.author, h.body) for h in desk.reply_step.turns[-1].history]
    assert ("operator", "Oi Ana, aqui é a Marta. Seu pedido sai hoje.") in seen
    assert await desk.history(thread["id"]) == [
        ("active", "waiting_human", "user"),
        ("waiting_human", "with_human", "operator"),
        ("with_human", "active", "operator"),
    ]


async def test_a_free_operator_gets_the_handoff_at_once_and_the_contact_hears_who(
    desk: Desk,
) -> None:
    marta = await desk.operator("Marta Lima")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    assert (thread["status"], thread["assignee_id"]) == ("with_human", marta.user_id)
    [reply] = await desk.outbox()
    assert reply.startswith(ACK)
    assert reply.endswith("Marta da nossa equipe assumiu a conversa e vai te responder por aqui.")


async def test_round_robin_within_the_limit_then_the_queue_waits_for_a_free_operator(
    desk: Desk,
) -> None:
    await desk.policy(operator_max_open=1)
    marta = await desk.operator("Marta Lima")
    joao = await desk.operator("João Reis")
    carla = "+5511999990003"
    for sender in (ANA, BRUNO, carla):
        await desk.say("quero falar com um atendente", sender=sender)
    first, second, third = [await desk.current(s) for s in (ANA, BRUNO, carla)]
    assert {first["assignee_id"], second["assignee_id"]} == {marta.user_id, joao.user_id}
    assert (third["status"], third["assignee_id"]) == ("waiting_human", None)

    listed = await desk.client.get("/operators", headers=desk.api)
    assert sorted(o["open_conversations"] for o in listed.json()) == [1, 1]

    # Full operators: assigning by hand is refused with the reason.
    full = await desk.act(third["id"], "assign", {"operator_id": marta.user_id})
    assert full.status_code == 422
    assert "limit" in full.json()["error"]["message"]
    nobody = await desk.act(third["id"], "assign")
    assert nobody.status_code == 409

    holder = marta if first["assignee_id"] == marta.user_id else joao
    await desk.act(first["id"], "close", headers=holder.headers)
    assert await desk.sweep() == 1  # the scheduler gives the waiting one to whoever is free
    third = await desk.current(carla)
    assert (third["status"], third["assignee_id"]) == ("with_human", holder.user_id)
    assert (await desk.outbox(carla))[-1].startswith(holder.name.split()[0])


async def test_an_away_operator_gets_nothing_automatically(desk: Desk) -> None:
    marta = await desk.operator("Marta Lima")
    away = await desk.client.put(
        f"/operators/{marta.user_id}/availability", json={"available": False}, headers=marta.headers
    )
    assert away.status_code == 200, away.text
    await desk.say("quero falar com um atendente")
    assert (await desk.current())["status"] == "waiting_human"
    member = await desk.operator("Mia Souza", role="member")
    refused = await desk.client.put(
        f"/operators/{marta.user_id}/availability", json={"available": True}, headers=member.headers
    )
    assert refused.status_code == 403


async def test_nobody_takes_it_in_time_the_contact_is_told_and_the_assistant_resumes(
    desk: Desk,
) -> None:
    await desk.say("quero falar com um atendente")
    desk.clock.advance(minutes=9)
    assert await desk.sweep() == 0
    desk.clock.advance(minutes=2)
    assert await desk.sweep() == 1
    thread = await desk.current()
    assert thread["status"] == "active"
    assert (await desk.outbox())[-1].startswith("Desculpe, ninguém da equipe conseguiu atender")
    await desk.say("ok, então me ajuda você")
    assert (await desk.outbox())[-1] == "eco: ok, então me ajuda você"


async def test_nobody_takes_it_and_the_tenant_keeps_it_waiting(make_desk: DeskFactory) -> None:
    desk = await make_desk(resume_on_wait_timeout=False)
    await desk.say("quero falar com um atendente")
    desk.clock.advance(minutes=11)
    await desk.sweep()
    thread = await desk.current()
    assert (thread["status"], thread["due_at"]) == ("waiting_human", None)
    assert (await desk.outbox())[-1].startswith("Nossa equipe ainda não conseguiu atender")
    desk.clock.advance(minutes=30)
    await desk.sweep()
    assert len(await desk.outbox()) == 2  # told once


async def test_a_quiet_operator_hands_the_conversation_back(desk: Desk) -> None:
    marta = await desk.operator("Marta Lima")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    desk.clock.advance(minutes=20)
    await desk.client.post(
        f"/conversations/{thread['id']}/messages", json={"body": "Já vejo"}, headers=marta.headers
    )
    desk.clock.advance(minutes=20)
    assert await desk.sweep() == 0  # the reply restarted the operator's timer
    desk.clock.advance(minutes=11)
    assert await desk.sweep() == 1
    assert (await desk.current())["status"] == "active"
    assert (await desk.outbox())[-1].startswith("O atendimento com a equipe terminou")
    assert (await desk.history(thread["id"]))[-1] == ("with_human", "active", "system")


async def test_operator_reply_takes_over_a_bot_conversation_and_is_sent_once(desk: Desk) -> None:
    marta = await desk.operator("Marta Lima")
    await desk.say("oi")
    thread = await desk.current()
    body = {"body": "Oi! Posso ajudar com seu pedido.", "client_key": "c-1"}
    first = await desk.client.post(
        f"/conversations/{thread['id']}/messages", json=body, headers=marta.headers
    )
    again = await desk.client.post(
        f"/conversations/{thread['id']}/messages", json=body, headers=marta.headers
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    await desk.run()
    assert await desk.outbox() == [
        "eco: oi",
        "Marta da nossa equipe assumiu a conversa e vai te responder por aqui.",
        "Oi! Posso ajudar com seu pedido.",
    ]
    assert (await desk.current())["assignee_id"] == marta.user_id


async def test_operator_actions_are_refused_with_reasons(desk: Desk) -> None:
    await desk.say("oi")
    thread = await desk.current()
    member = await desk.operator("Mia Souza", role="member")
    assert (await desk.act(thread["id"], "close", headers=member.headers)).status_code == 403
    bad = await desk.act(thread["id"], "assign", {"operator_id": member.user_id})
    assert bad.status_code == 422
    assert "member cannot take" in bad.json()["error"]["message"]
    assert (await desk.act("01ZZZZZZZZZZZZZZZZZZZZZZZZ", "close")).status_code == 404
    take_with_key = await desk.act(thread["id"], "take")
    assert take_with_key.status_code == 422
    assert (await desk.act(thread["id"], "close", {"colour": "red"})).status_code == 422
    await desk.act(thread["id"], "close")
    late = await desk.client.post(
        f"/conversations/{thread['id']}/messages", json={"body": "oi?"}, headers=desk.api
    )
    assert late.status_code == 409


async def test_reassigning_needs_the_version_the_operator_saw(desk: Desk) -> None:
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    joao = await desk.operator("João Reis")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    taken = (await desk.act(thread["id"], "take", headers=marta.headers)).json()
    blind = await desk.act(thread["id"], "take", headers=joao.headers)
    assert blind.status_code == 409
    moved = await desk.act(thread["id"], "take", {"version": taken["version"]}, joao.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] == joao.user_id


async def test_two_operators_take_the_same_conversation_at_once_one_gets_it(
    desk: Desk,
) -> None:
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    joao = await desk.operator("João Reis")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    version = {"version": thread["version"]}
    results = await asyncio.gather(
        desk.act(thread["id"], "take", version, marta.headers),
        desk.act(thread["id"], "take", version, joao.headers),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    assert len(await desk.history(thread["id"])) == 2


async def test_human_only_topics_go_to_a_person(desk: Desk) -> None:
    await desk.policy(human_only_topics=["reembolso", "cancelar assinatura"])
    await desk.say("quero cancelar a minha assinatura")
    thread = await desk.current()
    assert thread["status"] == "waiting_human"
    assert thread["handoff_reason"] == "human-only topic: cancelar assinatura"
    assert (await desk.outbox())[-1].startswith("Esse assunto é tratado pela nossa equipe")
    assert desk.reply_step.turns == []


async def test_the_assistant_calls_a_person_when_it_decides_to(make_desk: DeskFactory) -> None:
    desk = await make_desk(
        Reply(text="Isso eu não consigo resolver.", model="m", language="pt", handoff="refund")
    )
    await desk.policy(auto_assign=False)
    await desk.operator("Marta Lima")
    await desk.say("quero meu dinheiro de volta da compra de ontem")
    thread = await desk.current()
    assert (thread["status"], thread["handoff_reason"]) == ("waiting_human", "refund")
    [reply] = await desk.outbox()
    assert reply.startswith("Isso eu não consigo resolver.\n\nNão estou conseguindo te ajudar")


async def test_replies_that_cannot_help_in_a_row_call_a_person(make_desk: DeskFactory) -> None:
    unsure = Reply(text="Não entendi.", model="m", language="pt", resolved=False)
    fine = Reply(text="Feito.", model="m", language="pt")
    desk = await make_desk(unsure, fine, unsure, unsure)
    await desk.policy(auto_assign=False)
    await desk.operator("Marta Lima")
    for text in ("xpto", "registra 10", "abc", "def"):
        await desk.say(text)
        if text != "def":
            assert (await desk.current())["status"] == "active", text
    thread = await desk.current()
    assert thread["status"] == "waiting_human"
    assert thread["handoff_reason"] == "2 replies in a row could not help"


async def test_with_nobody_to_call_the_assistant_keeps_answering(make_desk: DeskFactory) -> None:
    unsure = Reply(text="Não entendi.", model="m", language="pt", resolved=False)
    desk = await make_desk(unsure, unsure, unsure)
    for text in ("xpto", "abc", "def"):
        await desk.say(text)
    assert (await desk.current())["status"] == "active"
    assert await desk.outbox() == ["Não entendi."] * 3


async def test_a_reply_made_while_an_operator_took_over_is_not_sent(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk()
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    await desk.say("oi")
    thread = await desk.current()
    took: list[int] = []

    class TakesOverMeanwhile:
        async def reply(self, turn: object) -> Reply:
            response = await desk.act(thread["id"], "take", headers=marta.headers)
            took.append(response.status_code)
            return Reply(text="resposta atrasada", model="m", language="pt")

    desk.container.reply_step = TakesOverMeanwhile()
    await desk.say("tem desconto?")
    assert took == [200]
    assert "resposta atrasada" not in await desk.outbox()
    assert (await desk.current())["status"] == "with_human"


async def test_filters_and_text_search(desk: Desk) -> None:
    marta = await desk.operator("Marta Lima")
    await desk.say("quero falar com um atendente", sender=ANA)
    await desk.say("qual o horário da loja?", sender=BRUNO)
    ana, bruno = await desk.current(ANA), await desk.current(BRUNO)
    assert [c["id"] for c in await desk.conversations(assignee_id=marta.user_id)] == [ana["id"]]
    assert [c["id"] for c in await desk.conversations(status="active")] == [bruno["id"]]
    both = await desk.conversations(status=["active", "with_human"])
    assert {c["id"] for c in both} == {ana["id"], bruno["id"]}
    assert [c["id"] for c in await desk.conversations(q="HORÁRIO")] == [bruno["id"]]
    assert await desk.conversations(q="100%_") == []
    bad = await desk.client.get("/conversations", params={"status": "paused"}, headers=desk.api)
    assert bad.status_code == 422
    single = await desk.client.get(f"/conversations/{ana['id']}", headers=desk.api)
    assert single.json()["assignee_id"] == marta.user_id


async def test_events_tell_the_console_what_changed(desk: Desk) -> None:
    async with desk.container.bus.subscribe(desk.tenant_id) as subscription:
        await desk.say("quero falar com um atendente")
        seen: list[Event] = []
        while (event := await subscription.get(timeout=1.0)) is not None:
            seen.append(event)
    kinds = [e.kind for e in seen]
    assert kinds[:2] == ["conversation.opened", "message.created"]
    moved = [e.data for e in seen if e.kind == "conversation.transitioned"]
    assert [(d["from"], d["to"], d["actor"]) for d in moved] == [
        ("active", "waiting_human", "user")
    ]
    assert all("body" not in e.data for e in seen)
    assert {e.tenant_id for e in seen} == {desk.tenant_id}


@pytest.mark.parametrize(
    ("answer", "status"), [("sim", "waiting_human"), ("não, obrigado", "active")]
)
async def test_a_yes_to_the_offer_of_a_person_hands_off(
    make_desk: DeskFactory, answer: str, status: str
) -> None:
    offer = "Não encontrei isso nos nossos documentos. Quer que eu chame uma pessoa da equipe?"
    desk = await make_desk(Reply(text=offer, model="m", language="pt", resolved=False))
    await desk.policy(auto_assign=False)
    await desk.say("vocês fazem bolo sem glúten?")
    await desk.say(answer)
    assert (await desk.current())["status"] == status
