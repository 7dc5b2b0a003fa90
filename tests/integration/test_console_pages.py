"""The console's pages over HTTP: the operator's tenant only, CSRF on every change, texts from
the catalogue in the reader's language, and actions through the handoff and outbound path."""

from __future__ import annotations

from tests.desk_support import DeskFactory, Operator
from whatsapp_ai.console.inbox import VIEWS


def _browser(operator: Operator, language: str = "pt-BR") -> dict[str, str]:
    """What a browser sends: the session cookie, never the API's CSRF header."""
    return {"Cookie": operator.headers["Cookie"], "Accept-Language": language}


def _csrf(operator: Operator) -> str:
    return operator.headers["X-CSRF-Token"]


async def test_an_operator_sees_and_changes_only_their_tenants_conversations(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk()
    other = await make_desk()
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    bruno = await other.operator("Bruno Reis")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    path = f"/console/conversations/{thread['id']}"

    mine = await desk.client.get("/console/inbox?view=needs_human", headers=_browser(marta))
    assert mine.status_code == 200
    assert thread["id"] in mine.text
    assert "Precisa de atendente" in mine.text

    for view in VIEWS:
        rows = await other.client.get(f"/console/inbox/rows?view={view}", headers=_browser(bruno))
        assert rows.status_code == 200
        assert thread["id"] not in rows.text
    shown = await other.client.get(path, headers=_browser(bruno))
    assert shown.status_code == 404
    assert "Conversa não encontrada." in shown.text
    for action in ("take", "close", "release", "return"):
        refused = await other.client.post(
            f"{path}/{action}", data={"csrf": _csrf(bruno)}, headers=_browser(bruno)
        )
        assert refused.status_code == 404, action
    replied = await other.client.post(
        f"{path}/reply", data={"csrf": _csrf(bruno), "body": "oi"}, headers=_browser(bruno)
    )
    assert replied.status_code == 404
    assert (await desk.current())["status"] == "waiting_human"


async def test_changes_need_the_csrf_token_and_leave_through_the_outbound_path(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk()
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    path = f"/console/conversations/{thread['id']}"
    sent_before = len(await desk.outbox())

    forged = await desk.client.post(f"{path}/take", data={}, headers=_browser(marta))
    assert forged.status_code == 403
    assert "Sua sessão mudou." in forged.text
    assert (await desk.current())["status"] == "waiting_human"

    taken = await desk.client.post(
        f"{path}/take", data={"csrf": _csrf(marta)}, headers=_browser(marta)
    )
    assert taken.status_code == 303
    assert (await desk.current())["assignee_id"] == marta.user_id

    empty = await desk.client.post(
        f"{path}/reply", data={"csrf": _csrf(marta), "body": "  "}, headers=_browser(marta)
    )
    assert empty.status_code == 422
    assert "Escreva uma mensagem antes de enviar." in empty.text
    control = await desk.client.post(
        f"{path}/reply", data={"csrf": _csrf(marta), "body": "a\x00b"}, headers=_browser(marta)
    )
    assert control.status_code == 422
    assert control.json()["error"]["fields"][0]["field"] == "body.body"

    sent = await desk.client.post(
        f"{path}/reply",
        data={"csrf": _csrf(marta), "body": "Oi Ana,\naqui é a Marta."},
        headers=_browser(marta),
    )
    assert sent.status_code == 303
    await desk.run()
    outbox = await desk.outbox()
    assert outbox[-1] == "Oi Ana,\naqui é a Marta."
    assert len(outbox) == sent_before + 2  # who took over, then the reply


async def test_sign_in_errors_come_from_the_catalogue(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    refused = await desk.client.post(
        "/console/login",
        data={"email": "nobody@example.com", "password": "wrong-password-1"},
        headers={"Accept-Language": "pt-BR,pt;q=0.9"},
    )
    assert refused.status_code == 401
    assert "E-mail ou senha incorretos." in refused.text
    english = await desk.client.post(
        "/console/login",
        data={"email": "nobody@example.com", "password": "wrong-password-1"},
        headers={"Accept-Language": "en-US"},
    )
    assert "Wrong e-mail or password." in english.text
    assert (await desk.client.get("/console/inbox")).headers["location"] == "/console/login"


async def test_an_operator_assigns_a_conversation_to_a_colleague(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    await desk.policy(auto_assign=False)
    marta = await desk.operator("Marta Lima")
    joao = await desk.operator("João Reis")
    await desk.say("quero falar com um atendente")
    thread = await desk.current()
    path = f"/console/conversations/{thread['id']}"
    page = await desk.client.get(path, headers=_browser(marta))
    assert "João Reis" in page.text

    given = await desk.client.post(
        f"{path}/assign",
        data={"csrf": _csrf(marta), "operator_id": joao.user_id, "version": thread["version"]},
        headers=_browser(marta),
    )
    assert given.status_code == 303
    assert (await desk.current())["assignee_id"] == joao.user_id

    stale = await desk.client.post(
        f"{path}/assign",
        data={"csrf": _csrf(marta), "operator_id": marta.user_id, "version": thread["version"]},
        headers=_browser(marta),
    )
    assert stale.status_code == 409
    assert "Alguém mudou esta conversa enquanto isso." in stale.text
    assert (await desk.current())["assignee_id"] == joao.user_id
