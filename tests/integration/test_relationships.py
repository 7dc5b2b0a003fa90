"""Personal CRM on real databases: people matched by folded name, reminders from creation to
delivery (the scheduler's sweep across tenants, exclusive claims), meetings, retried writes,
the REST API with its validation and tenant walls, and a contact's export and erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import auth
from whatsapp_ai.bootstrap import Container
from whatsapp_ai.core import errors as core
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.privacy import ContactRef
from whatsapp_ai.core.text import fold_key
from whatsapp_ai.identity import service as identity
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.relationships.errors import (
    BadTimeError,
    DuplicateError,
    InvalidChangeError,
    InvalidInputError,
    NotFoundError,
)
from whatsapp_ai.relationships.models import Interaction, Meeting, Person, Reminder

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ANA = "+5511987654321"
BRUNO = "+5511912345678"
BASE = "/relationships"


async def _contact(container: Container, tenant_id: str, address: str = ANA) -> str:
    async with container.db.transaction() as session:
        contact = await identity.get_or_create_contact(
            session, tenant_id=tenant_id, address=address, profile_name=None, now=NOW
        )
        return contact.id


async def _other_tenant(container: Container) -> dict[str, str]:
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name="Outra Loja", slug=f"t-{new_id().lower()[-10:]}", now=NOW
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="b", now=NOW
        )
    return {"id": created.id, "key": secret}


async def _count(container: Container, model: Any, *where: Any) -> int:
    async with container.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- people -----------------------------------------------------------------------------------


def test_names_fold_to_the_same_key_whatever_the_accents_case_and_spacing() -> None:
    assert fold_key("João") == fold_key("Joao") == fold_key(" JOÃO ") == "joao"
    assert fold_key("Ana-Maria  d'Ávila") == "ana maria d avila"
    assert fold_key("...") == ""


async def test_a_person_is_found_again_by_a_name_spelled_differently(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"])
    bruno = await _contact(container, tenant["id"], BRUNO)
    async with container.db.transaction() as session:
        joao, created = await crm.find_or_create_person(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            name="João",
            phone="+55 11 9999",
            now=NOW,
        )
        assert created
        again, created_again = await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=ana, name="  joao ", now=NOW
        )
        assert (again.id, created_again, again.name, again.phone) == (
            joao.id,
            False,
            "João",
            "+55 11 9999",
        )
        # Each contact keeps their own people.
        bruno_joao, created_for_bruno = await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=bruno, name="Joao", now=NOW
        )
        assert created_for_bruno
        assert bruno_joao.id != joao.id
        await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=ana, name="Joana Silva", now=NOW
        )
        await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=ana, name="Mariana Jó", now=NOW
        )
        await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=ana, name="Bia Joãozinho", now=NOW
        )
        with pytest.raises(InvalidInputError, match="letter or a digit"):
            await crm.find_or_create_person(
                session, tenant_id=tenant["id"], contact_id=ana, name="?!", now=NOW
            )

    async with container.db.read() as session:

        async def names(query: str) -> list[str]:
            found = await crm.find_people(
                session, tenant_id=tenant["id"], contact_id=ana, query=query
            )
            return [person.name for person in found]

        assert await names("JO") == ["Bia Joãozinho", "Joana Silva", "João", "Mariana Jó"]
        assert await names("joão") == ["João", "Bia Joãozinho"]  # the exact name first
        assert await names("silv") == ["Joana Silva"]  # a word of the name
        assert await names("ilva") == []  # prefixes only
        assert await names("%") == []  # wildcards are plain characters
    assert await _count(container, Person, Person.contact_id == ana) == 4


async def test_two_turns_creating_the_same_person_at_once_make_one(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"])

    async def create(name: str) -> str:
        with tenant_scope(tenant["id"]):
            async with container.db.transaction() as session:
                person, _created = await crm.find_or_create_person(
                    session, tenant_id=tenant["id"], contact_id=ana, name=name, now=NOW
                )
                await asyncio.sleep(0.05)
                return person.id

    ids = await asyncio.gather(create("Maria"), create("MARIA"), create("María"))
    assert len(set(ids)) == 1
    assert await _count(container, Person) == 1


async def test_renaming_a_person_onto_another_is_refused_and_deleting_keeps_reminders(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"])
    async with container.db.transaction() as session:
        joao, _ = await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=ana, name="João", now=NOW
        )
        maria, _ = await crm.find_or_create_person(
            session, tenant_id=tenant["id"], contact_id=ana, name="Maria", now=NOW
        )
        with pytest.raises(DuplicateError, match="already has a person named 'João'"):
            await crm.update_person(
                session,
                tenant_id=tenant["id"],
                person_id=maria.id,
                changes={"name": "joao"},
                now=NOW,
            )
        renamed = await crm.update_person(
            session,
            tenant_id=tenant["id"],
            person_id=joao.id,
            changes={"name": "João  Pedro", "email": "jp@example.com", "phone": None},
            now=NOW,
        )
        assert (renamed.name, renamed.email) == ("João Pedro", "jp@example.com")
        await crm.add_interaction(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            person_id=joao.id,
            summary="almoçamos",
            now=NOW,
        )
        reminder, _ = await crm.add_reminder(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            person_id=joao.id,
            text="ligar para o João",
            due_at=NOW + timedelta(days=1),
            now=NOW,
        )
    async with container.db.transaction() as session:
        assert await crm.delete_person(session, tenant_id=tenant["id"], person_id=joao.id)
        assert not await crm.delete_person(session, tenant_id=tenant["id"], person_id=joao.id)
    assert await _count(container, Interaction) == 0
    async with container.db.read() as session:
        kept = await crm.get_reminder(session, tenant_id=tenant["id"], reminder_id=reminder.id)
    assert kept is not None
    assert (kept.person_id, kept.text) == (None, "ligar para o João")


# --- reminders --------------------------------------------------------------------------------


async def test_a_reminder_goes_from_pending_to_done_or_cancelled_and_no_further(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"])
    t = tenant["id"]
    async with container.db.transaction() as session:
        first, created = await crm.add_reminder(
            session, tenant_id=t, contact_id=ana, text=" pagar a luz ", due_at=NOW, now=NOW
        )
        assert (created, first.status, first.text, first.attempts) == (
            True,
            "pending",
            "pagar a luz",
            0,
        )
        second, _ = await crm.add_reminder(
            session,
            tenant_id=t,
            contact_id=ana,
            text="consulta",
            due_at=NOW + timedelta(hours=2),
            now=NOW,
        )
        with pytest.raises(BadTimeError, match="in the past"):
            await crm.add_reminder(
                session,
                tenant_id=t,
                contact_id=ana,
                text="ontem",
                due_at=NOW - timedelta(days=1),
                now=NOW,
            )
        with pytest.raises(InvalidInputError, match="text cannot be empty"):
            await crm.add_reminder(
                session, tenant_id=t, contact_id=ana, text="  ", due_at=NOW, now=NOW
            )
        with pytest.raises(InvalidInputError, match="longer than 1000"):
            await crm.add_reminder(
                session, tenant_id=t, contact_id=ana, text="x" * 1001, due_at=NOW, now=NOW
            )

        edited = await crm.edit_reminder(
            session, tenant_id=t, reminder_id=first.id, text="pagar a conta de luz", now=NOW
        )
        assert edited.text == "pagar a conta de luz"
        done = await crm.complete_reminder(session, tenant_id=t, reminder_id=first.id, now=NOW)
        assert done.status == "done"
        assert (
            await crm.complete_reminder(session, tenant_id=t, reminder_id=first.id, now=NOW)
        ).status == "done"
        with pytest.raises(InvalidChangeError, match="is done; it cannot become cancelled"):
            await crm.cancel_reminder(session, tenant_id=t, reminder_id=first.id, now=NOW)
        with pytest.raises(InvalidChangeError, match="add a new one"):
            await crm.reschedule_reminder(
                session, tenant_id=t, reminder_id=first.id, due_at=NOW + timedelta(days=1), now=NOW
            )

        cancelled = await crm.cancel_reminder(session, tenant_id=t, reminder_id=second.id, now=NOW)
        assert cancelled.status == "cancelled"
        with pytest.raises(InvalidChangeError, match="is cancelled"):
            await crm.complete_reminder(session, tenant_id=t, reminder_id=second.id, now=NOW)
        with pytest.raises(NotFoundError, match="reminder not found"):
            await crm.cancel_reminder(session, tenant_id=t, reminder_id=new_id(), now=NOW)

    async with container.db.read() as session:
        page = await crm.list_reminders(session, tenant_id=t, contact_id=ana, statuses=["done"])
    assert [r.id for r in page.items] == [first.id]


async def test_the_due_sweep_finds_due_reminders_of_every_tenant(
    container: Container, tenant: dict[str, str]
) -> None:
    other = await _other_tenant(container)
    due: list[tuple[str, str]] = []
    for offset, tenant_id in enumerate((tenant["id"], other["id"])):
        contact = await _contact(container, tenant_id)
        async with container.db.transaction() as session:
            reminder, _ = await crm.add_reminder(
                session,
                tenant_id=tenant_id,
                contact_id=contact,
                text="vencido",
                due_at=NOW + timedelta(minutes=offset),
                now=NOW,
            )
            due.append((tenant_id, reminder.id))
            await crm.add_reminder(
                session,
                tenant_id=tenant_id,
                contact_id=contact,
                text="amanhã",
                due_at=NOW + timedelta(days=1),
                now=NOW,
            )
            gone, _ = await crm.add_reminder(
                session, tenant_id=tenant_id, contact_id=contact, text="x", due_at=NOW, now=NOW
            )
            await crm.cancel_reminder(session, tenant_id=tenant_id, reminder_id=gone.id, now=NOW)

    later = NOW + timedelta(minutes=5)
    with system_scope():
        async with container.db.read() as session:
            assert await crm.due_reminders(session, now=later) == due
            assert await crm.due_reminders(session, now=later, limit=1) == due[:1]
            assert await crm.due_reminders(session, now=NOW - timedelta(minutes=1)) == []
    # Inside one tenant's scope the other tenant's rows are invisible, even to the sweep.
    with tenant_scope(tenant["id"]):
        async with container.db.read() as session:
            assert await crm.due_reminders(session, now=later) == due[:1]

    # Delivery: each claimed in its tenant's scope, sent once, never swept again.
    for tenant_id, reminder_id in due:
        with tenant_scope(tenant_id):
            async with container.db.transaction() as session:
                claimed = await crm.claim_due(
                    session, tenant_id=tenant_id, reminder_id=reminder_id, now=later
                )
                assert claimed is not None
                assert claimed.attempts == 1
                await crm.mark_sent(session, reminder=claimed, now=later)
    with system_scope():
        async with container.db.read() as session:
            assert await crm.due_reminders(session, now=later) == []
            sent = await crm.get_reminder(session, tenant_id=due[0][0], reminder_id=due[0][1])
    assert sent is not None
    assert (sent.status, sent.sent_at) == ("sent", later)


async def test_claim_due_is_exclusive_when_workers_race(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    async with container.db.transaction() as session:
        reminder, _ = await crm.add_reminder(
            session, tenant_id=t, contact_id=ana, text="remédio", due_at=NOW, now=NOW
        )
        later, _ = await crm.add_reminder(
            session, tenant_id=t, contact_id=ana, text="depois", due_at=NOW, now=NOW
        )
    holding = asyncio.Event()

    async def claim(reminder_id: str, *, wait_for_holder: bool = False) -> bool:
        if wait_for_holder:
            await holding.wait()
        with tenant_scope(t):
            async with container.db.transaction() as session:
                claimed = await crm.claim_due(
                    session, tenant_id=t, reminder_id=reminder_id, now=NOW
                )
                if claimed is None:
                    return False
                holding.set()
                # Sending takes a while: the row stays claimed until this transaction ends.
                await asyncio.sleep(0.2)
                await crm.mark_sent(session, reminder=claimed, now=NOW)
                return True

    # The second worker claims while the first still holds the row (on PostgreSQL the two
    # transactions overlap; SQLite has one writer, so there it queues behind the first).
    assert await asyncio.gather(claim(reminder.id), claim(reminder.id, wait_for_holder=True)) == [
        True,
        False,
    ]
    # And a free-for-all: many workers at once, one delivery.
    results = await asyncio.gather(*(claim(later.id) for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
    async with container.db.read() as session:
        rows = list(await session.scalars(select(Reminder).order_by(Reminder.id)))
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]


async def test_claim_due_refuses_what_is_not_due_or_not_pending_or_not_the_tenants(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    other = await _other_tenant(container)
    ana = await _contact(container, t)
    async with container.db.transaction() as session:
        soon, _ = await crm.add_reminder(
            session,
            tenant_id=t,
            contact_id=ana,
            text="logo",
            due_at=NOW + timedelta(hours=1),
            now=NOW,
        )
        assert await crm.claim_due(session, tenant_id=t, reminder_id=soon.id, now=NOW) is None
        assert (
            await crm.claim_due(
                session, tenant_id=other["id"], reminder_id=soon.id, now=NOW + timedelta(hours=2)
            )
            is None
        )
        await crm.cancel_reminder(session, tenant_id=t, reminder_id=soon.id, now=NOW)
        assert (
            await crm.claim_due(
                session, tenant_id=t, reminder_id=soon.id, now=NOW + timedelta(hours=2)
            )
            is None
        )


async def test_rescheduling_moves_a_pending_reminder_and_sends_a_sent_one_again(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    async with container.db.transaction() as session:
        reminder, _ = await crm.add_reminder(
            session, tenant_id=t, contact_id=ana, text="regar as plantas", due_at=NOW, now=NOW
        )
        moved = await crm.reschedule_reminder(
            session, tenant_id=t, reminder_id=reminder.id, due_at=NOW + timedelta(hours=1), now=NOW
        )
        assert (moved.status, moved.due_at) == ("pending", NOW + timedelta(hours=1))
        assert await crm.claim_due(session, tenant_id=t, reminder_id=reminder.id, now=NOW) is None

    at = NOW + timedelta(hours=1)
    async with container.db.transaction() as session:
        claimed = await crm.claim_due(session, tenant_id=t, reminder_id=reminder.id, now=at)
        assert claimed is not None
        await crm.mark_sent(session, reminder=claimed, now=at)
    async with container.db.transaction() as session:
        again = await crm.reschedule_reminder(
            session, tenant_id=t, reminder_id=reminder.id, due_at=at + timedelta(days=1), now=at
        )
        assert (again.status, again.sent_at, again.attempts) == ("pending", None, 0)
        with pytest.raises(BadTimeError, match="in the past"):
            await crm.reschedule_reminder(
                session, tenant_id=t, reminder_id=reminder.id, due_at=NOW, now=at
            )
    with system_scope():
        async with container.db.read() as session:
            assert await crm.due_reminders(session, now=at + timedelta(hours=1)) == []
            assert await crm.due_reminders(session, now=at + timedelta(days=1)) == [
                (t, reminder.id)
            ]


# --- meetings and what is ahead ---------------------------------------------------------------


async def test_meetings_cannot_start_in_the_past_nor_end_before_they_start(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    async with container.db.transaction() as session:
        with pytest.raises(BadTimeError, match="the meeting would start in the past"):
            await crm.add_meeting(
                session,
                tenant_id=t,
                contact_id=ana,
                title="reunião",
                starts_at=NOW - timedelta(hours=1),
                now=NOW,
            )
        with pytest.raises(BadTimeError, match="end after it starts"):
            await crm.add_meeting(
                session,
                tenant_id=t,
                contact_id=ana,
                title="reunião",
                starts_at=NOW + timedelta(hours=2),
                ends_at=NOW + timedelta(hours=1),
                now=NOW,
            )
        meeting, _ = await crm.add_meeting(
            session,
            tenant_id=t,
            contact_id=ana,
            title="  Dentista  ",
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=1, hours=1),
            location="Rua A, 10",
            now=NOW,
        )
        assert (meeting.title, meeting.status) == ("Dentista", "scheduled")
        with pytest.raises(BadTimeError, match="in the past"):
            await crm.update_meeting(
                session,
                tenant_id=t,
                meeting_id=meeting.id,
                changes={"starts_at": NOW - timedelta(minutes=5)},
                now=NOW,
            )
        with pytest.raises(BadTimeError, match="end after it starts"):
            await crm.update_meeting(
                session,
                tenant_id=t,
                meeting_id=meeting.id,
                changes={"starts_at": NOW + timedelta(days=2)},
                now=NOW,
            )
        moved = await crm.update_meeting(
            session,
            tenant_id=t,
            meeting_id=meeting.id,
            changes={"starts_at": NOW + timedelta(days=2), "ends_at": None, "location": None},
            now=NOW,
        )
        assert (moved.starts_at, moved.ends_at, moved.location) == (
            NOW + timedelta(days=2),
            None,
            None,
        )
        await crm.cancel_meeting(session, tenant_id=t, meeting_id=meeting.id, now=NOW)
        with pytest.raises(InvalidChangeError, match="the meeting is cancelled"):
            await crm.update_meeting(
                session, tenant_id=t, meeting_id=meeting.id, changes={"title": "x"}, now=NOW
            )
        with pytest.raises(InvalidChangeError, match="cannot become done"):
            await crm.complete_meeting(session, tenant_id=t, meeting_id=meeting.id, now=NOW)


async def test_upcoming_shows_pending_reminders_and_scheduled_meetings_of_the_next_days(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    bruno = await _contact(container, t, BRUNO)
    async with container.db.transaction() as session:

        async def reminder(text: str, days: float, contact: str = ana) -> Reminder:
            row, _ = await crm.add_reminder(
                session,
                tenant_id=t,
                contact_id=contact,
                text=text,
                due_at=NOW + timedelta(days=days),
                now=NOW,
            )
            return row

        async def meeting(title: str, days: float) -> Meeting:
            row, _ = await crm.add_meeting(
                session,
                tenant_id=t,
                contact_id=ana,
                title=title,
                starts_at=NOW + timedelta(days=days),
                now=NOW,
            )
            return row

        await reminder("amanhã", 1)
        await reminder("hoje", 0.1)
        await reminder("mês que vem", 30)
        await reminder("do bruno", 1, bruno)
        gone = await reminder("cancelado", 2)
        await crm.cancel_reminder(session, tenant_id=t, reminder_id=gone.id, now=NOW)
        await meeting("dentista", 3)
        await meeting("viagem", 10)
        off = await meeting("cancelada", 2)
        await crm.cancel_meeting(session, tenant_id=t, meeting_id=off.id, now=NOW)

    async with container.db.read() as session:
        ahead = await crm.upcoming(session, tenant_id=t, contact_id=ana, now=NOW, days=7)
        longer = await crm.upcoming(session, tenant_id=t, contact_id=ana, now=NOW, days=31)
    assert [r.text for r in ahead.reminders] == ["hoje", "amanhã"]
    assert [m.title for m in ahead.meetings] == ["dentista"]
    assert [r.text for r in longer.reminders] == ["hoje", "amanhã", "mês que vem"]
    assert [m.title for m in longer.meetings] == ["dentista", "viagem"]


async def test_a_retried_turn_creates_nothing_twice(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    bruno = await _contact(container, t, BRUNO)
    other = await _other_tenant(container)
    other_contact = await _contact(container, other["id"])
    key = f"{new_id()}:0"

    async def turn() -> tuple[bool, ...]:
        async with container.db.transaction() as session:
            person, p = await crm.find_or_create_person(
                session, tenant_id=t, contact_id=ana, name="Rita", source_key=key, now=NOW
            )
            _, i = await crm.add_interaction(
                session,
                tenant_id=t,
                contact_id=ana,
                person_id=person.id,
                summary="café",
                source_key=key,
                now=NOW,
            )
            _, r = await crm.add_reminder(
                session,
                tenant_id=t,
                contact_id=ana,
                text="aniversário da Rita",
                due_at=NOW + timedelta(days=3),
                source_key=key,
                now=NOW,
            )
            _, m = await crm.add_meeting(
                session,
                tenant_id=t,
                contact_id=ana,
                title="jantar",
                starts_at=NOW + timedelta(days=4),
                source_key=key,
                now=NOW,
            )
            return p, i, r, m

    assert await turn() == (True, True, True, True)
    assert await turn() == (False, False, False, False)
    for model in (Person, Interaction, Reminder, Meeting):
        assert await _count(container, model) == 1, model

    async with container.db.transaction() as session:
        # The same key for another contact of the tenant is a client's mistake, not a retry.
        with pytest.raises(DuplicateError, match="used for another contact"):
            await crm.add_reminder(
                session,
                tenant_id=t,
                contact_id=bruno,
                text="x",
                due_at=NOW,
                source_key=key,
                now=NOW,
            )
        # Keys are per tenant: another tenant's turn with the same key is its own.
        _, created = await crm.add_reminder(
            session,
            tenant_id=other["id"],
            contact_id=other_contact,
            text="y",
            due_at=NOW,
            source_key=key,
            now=NOW,
        )
        assert created


async def test_records_point_only_at_the_tenants_own_contact_and_that_contacts_people(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    other = await _other_tenant(container)
    ana = await _contact(container, t)
    bruno = await _contact(container, t, BRUNO)
    stranger = await _contact(container, other["id"])
    async with container.db.transaction() as session:
        brunos, _ = await crm.find_or_create_person(
            session, tenant_id=t, contact_id=bruno, name="Zé", now=NOW
        )
        with pytest.raises(NotFoundError, match="contact not found"):
            await crm.add_reminder(
                session, tenant_id=t, contact_id=stranger, text="x", due_at=NOW, now=NOW
            )
        with pytest.raises(NotFoundError, match="contact not found"):
            await crm.find_or_create_person(
                session, tenant_id=t, contact_id=stranger, name="x", now=NOW
            )
        with pytest.raises(NotFoundError, match="person not found"):
            await crm.add_meeting(
                session,
                tenant_id=t,
                contact_id=ana,
                person_id=brunos.id,
                title="x",
                starts_at=NOW,
                now=NOW,
            )
    assert await _count(container, Meeting) + await _count(container, Reminder) == 0


async def test_lists_page_with_cursors(container: Container, tenant: dict[str, str]) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    async with container.db.transaction() as session:
        for name in ("Eva", "bia", "Ana", "Davi", "Caio"):
            await crm.find_or_create_person(
                session, tenant_id=t, contact_id=ana, name=name, now=NOW
            )
        for hours in (3, 1, 2, 1):
            await crm.add_reminder(
                session,
                tenant_id=t,
                contact_id=ana,
                text=f"em {hours} h",
                due_at=NOW + timedelta(hours=hours),
                now=NOW,
            )
    async with container.db.read() as session:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page = await crm.list_people(
                session, tenant_id=t, contact_id=ana, cursor=cursor, limit=2
            )
            seen += [p.name for p in page.items]
            if (cursor := page.next_cursor) is None:
                break
        assert seen == ["Ana", "bia", "Caio", "Davi", "Eva"]

        first = await crm.list_reminders(session, tenant_id=t, limit=3)
        rest = await crm.list_reminders(session, tenant_id=t, limit=3, cursor=first.next_cursor)
        texts = [r.text for r in first.items + rest.items]
        assert texts == ["em 1 h", "em 1 h", "em 2 h", "em 3 h"]
        assert rest.next_cursor is None
        with pytest.raises(core.InvalidInputError, match="invalid cursor"):
            await crm.list_reminders(session, tenant_id=t, cursor="not-a-cursor")
        # A cursor of another list is refused too.
        with pytest.raises(core.InvalidInputError, match="invalid cursor"):
            await crm.list_meetings(session, tenant_id=t, cursor=first.next_cursor)


# --- privacy ----------------------------------------------------------------------------------


async def _fill(container: Container, tenant_id: str, contact_id: str, who: str) -> None:
    async with container.db.transaction() as session:
        person, _ = await crm.find_or_create_person(
            session, tenant_id=tenant_id, contact_id=contact_id, name=f"amigo de {who}", now=NOW
        )
        await crm.add_interaction(
            session,
            tenant_id=tenant_id,
            contact_id=contact_id,
            person_id=person.id,
            summary=f"conversa de {who}",
            now=NOW,
        )
        await crm.add_reminder(
            session,
            tenant_id=tenant_id,
            contact_id=contact_id,
            text=f"lembrete de {who}",
            due_at=NOW + timedelta(days=1),
            now=NOW,
        )
        await crm.add_meeting(
            session,
            tenant_id=tenant_id,
            contact_id=contact_id,
            title=f"reunião de {who}",
            starts_at=NOW + timedelta(days=1),
            now=NOW,
        )


async def test_export_and_erase_touch_only_that_contact(
    container: Container, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    bruno = await _contact(container, t, BRUNO)
    await _fill(container, t, ana, "Ana")
    await _fill(container, t, bruno, "Bruno")
    ref = ContactRef(tenant_id=t, contact_id=ana, address=ANA)

    async with container.db.read() as session:
        exported = await crm.export_contact(session, ref)
    assert [p["name"] for p in exported["people"]] == ["amigo de Ana"]
    assert [i["summary"] for i in exported["interactions"]] == ["conversa de Ana"]
    assert [r["text"] for r in exported["reminders"]] == ["lembrete de Ana"]
    assert [m["title"] for m in exported["meetings"]] == ["reunião de Ana"]
    assert "Bruno" not in repr(exported)

    async with container.db.transaction() as session:
        erased = await crm.erase_contact(session, ref)
    assert erased.rows == 4
    for model in (Person, Interaction, Reminder, Meeting):
        assert await _count(container, model, model.contact_id == ana) == 0
        assert await _count(container, model, model.contact_id == bruno) == 1


async def test_the_platform_export_and_erasure_include_the_crm(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    t = tenant["id"]
    ana = await _contact(container, t)
    bruno = await _contact(container, t, BRUNO)
    await _fill(container, t, ana, "Ana")
    await _fill(container, t, bruno, "Bruno")

    exported = await client.get(f"/identity/contacts/{ana}/export", headers=auth(tenant["key"]))
    assert exported.status_code == 200, exported.text
    data = exported.json()["data"]["relationships"]
    assert [r["text"] for r in data["reminders"]] == ["lembrete de Ana"]
    assert "Bruno" not in exported.text

    erased = await client.post(f"/identity/contacts/{ana}/erasure", headers=auth(tenant["key"]))
    assert erased.status_code == 201, erased.text
    assert erased.json()["removed"]["relationships"] == 4
    for model in (Person, Interaction, Reminder, Meeting):
        assert await _count(container, model, model.contact_id == ana) == 0
        assert await _count(container, model, model.contact_id == bruno) == 1


# --- REST API ---------------------------------------------------------------------------------


def _soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def test_people_over_http(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    created = await client.post(
        f"{BASE}/people",
        json={"contact_id": ana, "name": "João", "phone": "+55 11 98888-7777", "source_key": "k1"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    joao = created.json()
    assert (joao["name"], joao["phone"], joao["birthday"]) == ("João", "+55 11 98888-7777", None)

    replay = await client.post(
        f"{BASE}/people",
        json={"contact_id": ana, "name": "João", "phone": "+55 11 98888-7777", "source_key": "k1"},
        headers=headers,
    )
    assert (replay.status_code, replay.json()["id"]) == (200, joao["id"])
    twin = await client.post(
        f"{BASE}/people", json={"contact_id": ana, "name": "JOAO"}, headers=headers
    )
    assert twin.status_code == 409
    assert "already has a person named 'João'" in twin.json()["error"]["message"]

    maria = (
        await client.post(
            f"{BASE}/people",
            json={"contact_id": ana, "name": "Maria", "birthday": "1990-05-17"},
            headers=headers,
        )
    ).json()
    listed = await client.get(
        f"{BASE}/people", params={"contact_id": ana, "q": "jo"}, headers=headers
    )
    assert [p["name"] for p in listed.json()["items"]] == ["João"]
    every = await client.get(f"{BASE}/people", params={"contact_id": ana}, headers=headers)
    assert [p["name"] for p in every.json()["items"]] == ["João", "Maria"]
    assert every.json()["next_cursor"] is None

    one = await client.get(f"{BASE}/people/{maria['id']}", headers=headers)
    assert one.json()["birthday"] == "1990-05-17"
    patched = await client.patch(
        f"{BASE}/people/{maria['id']}",
        json={"name": "Maria Clara", "email": "maria@example.com", "birthday": None},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["birthday"]) == ("Maria Clara", None)
    onto = await client.patch(
        f"{BASE}/people/{maria['id']}", json={"name": "joão"}, headers=headers
    )
    assert onto.status_code == 409

    for bad in (
        {},
        {"name": None},
        {"name": "  "},
        {"email": "not-an-email"},
        {"phone": "call me"},
        {"nickname": "Mari"},
    ):
        refused = await client.patch(f"{BASE}/people/{maria['id']}", json=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
    assert (
        await client.post(f"{BASE}/people", json={"contact_id": ana, "name": ""}, headers=headers)
    ).status_code == 422
    missing = await client.post(
        f"{BASE}/people", json={"contact_id": new_id(), "name": "Zé"}, headers=headers
    )
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "contact not found")
    assert (
        await client.get(f"{BASE}/people", params={"contact_id": new_id()}, headers=headers)
    ).status_code == 404
    garbage = await client.get(f"{BASE}/people", params={"cursor": "garbage"}, headers=headers)
    assert garbage.status_code == 422
    assert [f["field"] for f in garbage.json()["error"]["fields"]] == ["query.cursor"]
    unspellable = await client.get(f"{BASE}/people", params={"q": "?!"}, headers=headers)
    assert unspellable.status_code == 422
    assert [f["field"] for f in unspellable.json()["error"]["fields"]] == ["query.q"]

    assert (await client.delete(f"{BASE}/people/{maria['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"{BASE}/people/{maria['id']}", headers=headers)).status_code == 404
    assert (await client.delete(f"{BASE}/people/{maria['id']}", headers=headers)).status_code == 404


async def test_people_pages_over_http(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    for name in ("Caio", "Ana", "Bia"):
        response = await client.post(
            f"{BASE}/people", json={"contact_id": ana, "name": name}, headers=headers
        )
        assert response.status_code == 201
    first = (await client.get(f"{BASE}/people", params={"limit": 2}, headers=headers)).json()
    assert [p["name"] for p in first["items"]] == ["Ana", "Bia"]
    rest = (
        await client.get(
            f"{BASE}/people", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert ([p["name"] for p in rest["items"]], rest["next_cursor"]) == (["Caio"], None)


async def test_interactions_over_http(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    bruno = await _contact(container, tenant["id"], BRUNO)
    rita = (
        await client.post(
            f"{BASE}/people", json={"contact_id": ana, "name": "Rita"}, headers=headers
        )
    ).json()
    lunch = await client.post(
        f"{BASE}/interactions",
        json={
            "contact_id": ana,
            "person_id": rita["id"],
            "summary": "almoço, ela mudou de emprego",
            "happened_at": _soon(days=-2),
        },
        headers=headers,
    )
    assert lunch.status_code == 201, lunch.text
    call = await client.post(
        f"{BASE}/interactions", json={"contact_id": ana, "summary": "liguei"}, headers=headers
    )
    assert call.status_code == 201

    everything = await client.get(
        f"{BASE}/interactions", params={"contact_id": ana}, headers=headers
    )
    assert [i["summary"] for i in everything.json()["items"]] == [
        "liguei",
        "almoço, ela mudou de emprego",
    ]
    with_rita = await client.get(
        f"{BASE}/interactions", params={"person_id": rita["id"]}, headers=headers
    )
    assert [i["id"] for i in with_rita.json()["items"]] == [lunch.json()["id"]]
    wrong_pair = await client.get(
        f"{BASE}/interactions",
        params={"contact_id": bruno, "person_id": rita["id"]},
        headers=headers,
    )
    assert wrong_pair.status_code == 404

    future = await client.post(
        f"{BASE}/interactions",
        json={"contact_id": ana, "summary": "x", "happened_at": _soon(days=1)},
        headers=headers,
    )
    assert future.status_code == 422
    assert "cannot happen in the future" in future.json()["error"]["message"]
    naive = await client.post(
        f"{BASE}/interactions",
        json={"contact_id": ana, "summary": "x", "happened_at": "2026-01-01T10:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422
    foreign_person = await client.post(
        f"{BASE}/interactions",
        json={"contact_id": bruno, "person_id": rita["id"], "summary": "x"},
        headers=headers,
    )
    assert foreign_person.status_code == 404


async def test_reminders_over_http(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    bruno = await _contact(container, tenant["id"], BRUNO)

    async def add(text: str, contact: str = ana, **delta: float) -> dict[str, Any]:
        response = await client.post(
            f"{BASE}/reminders",
            json={"contact_id": contact, "text": text, "due_at": _soon(**delta)},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    bill = await add("pagar a luz", hours=2)
    doctor = await add("médico", days=3)
    await add("do bruno", bruno, days=1)
    assert bill["status"] == "pending"

    for bad in (
        {"contact_id": ana, "text": "x", "due_at": "2030-01-01T10:00:00"},  # no zone
        {"contact_id": ana, "text": "x", "due_at": _soon(days=-1)},  # in the past
        {"contact_id": ana, "text": "", "due_at": _soon(days=1)},
        {"contact_id": ana, "text": "x", "due_at": _soon(days=1), "repeat": "daily"},
        {"contact_id": ana, "text": "x" * 1001, "due_at": _soon(days=1)},
        {"contact_id": ana, "text": "x"},
    ):
        refused = await client.post(f"{BASE}/reminders", json=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)
    past = await client.post(
        f"{BASE}/reminders",
        json={"contact_id": ana, "text": "x", "due_at": _soon(days=-1)},
        headers=headers,
    )
    assert "in the past" in past.json()["error"]["message"]
    # A refusal of the CRM's names its field, like any other invalid value.
    assert past.json()["error"]["code"] == "validation_error"
    assert [f["field"] for f in past.json()["error"]["fields"]] == ["body.due_at"]

    async def listed(**params: Any) -> list[str]:
        response = await client.get(f"{BASE}/reminders", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [r["text"] for r in response.json()["items"]]

    assert await listed(contact_id=ana) == ["pagar a luz", "médico"]
    assert await listed() == ["pagar a luz", "do bruno", "médico"]
    assert await listed(**{"from": _soon(days=2)}) == ["médico"]
    assert await listed(to=_soon(days=2), contact_id=ana) == ["pagar a luz"]
    for bad_params in (
        {"from": "2030-01-01T10:00:00"},
        {"status": "archived"},
        {"from": _soon(days=2), "to": _soon(days=1)},
        {"limit": 0},
        {"cursor": "garbage"},
    ):
        response = await client.get(f"{BASE}/reminders", params=bad_params, headers=headers)
        assert response.status_code == 422, (bad_params, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    backwards = await client.get(
        f"{BASE}/reminders", params={"from": _soon(days=2), "to": _soon(days=1)}, headers=headers
    )
    assert [f["field"] for f in backwards.json()["error"]["fields"]] == ["query.from"]

    moved = await client.patch(
        f"{BASE}/reminders/{bill['id']}",
        json={"due_at": _soon(days=5), "text": "pagar a conta de luz"},
        headers=headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["text"] == "pagar a conta de luz"
    assert await listed(contact_id=ana) == ["médico", "pagar a conta de luz"]

    done = await client.patch(
        f"{BASE}/reminders/{doctor['id']}", json={"status": "done"}, headers=headers
    )
    assert done.json()["status"] == "done"
    assert await listed(contact_id=ana, status="done") == ["médico"]
    assert await listed(contact_id=ana, status=["pending", "done"]) == [
        "médico",
        "pagar a conta de luz",
    ]
    again = await client.patch(
        f"{BASE}/reminders/{doctor['id']}", json={"status": "cancelled"}, headers=headers
    )
    assert again.status_code == 409
    assert "is done" in again.json()["error"]["message"]
    for bad in (
        {},
        {"status": "pending"},
        {"status": "done", "due_at": _soon(days=1)},
        {"due_at": None},
        {"due_at": "2030-01-01T10:00:00"},
    ):
        refused = await client.patch(f"{BASE}/reminders/{bill['id']}", json=bad, headers=headers)
        assert refused.status_code == 422, (bad, refused.text)

    assert (await client.get(f"{BASE}/reminders/{bill['id']}", headers=headers)).status_code == 200
    assert (
        await client.delete(f"{BASE}/reminders/{bill['id']}", headers=headers)
    ).status_code == 204
    assert (await client.get(f"{BASE}/reminders/{bill['id']}", headers=headers)).status_code == 404
    assert (
        await client.patch(f"{BASE}/reminders/{bill['id']}", json={"text": "x"}, headers=headers)
    ).status_code == 404


async def test_meetings_over_http(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    created = await client.post(
        f"{BASE}/meetings",
        json={
            "contact_id": ana,
            "title": "Dentista",
            "starts_at": _soon(days=2),
            "ends_at": _soon(days=2, hours=1),
            "location": "Rua A, 10",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    dentist = created.json()
    assert dentist["status"] == "scheduled"
    trip = (
        await client.post(
            f"{BASE}/meetings",
            json={"contact_id": ana, "title": "Viagem", "starts_at": _soon(days=20)},
            headers=headers,
        )
    ).json()

    past = await client.post(
        f"{BASE}/meetings",
        json={"contact_id": ana, "title": "Ontem", "starts_at": _soon(days=-1)},
        headers=headers,
    )
    assert past.status_code == 422
    assert "the meeting would start in the past" in past.json()["error"]["message"]
    backwards = await client.post(
        f"{BASE}/meetings",
        json={
            "contact_id": ana,
            "title": "x",
            "starts_at": _soon(days=2),
            "ends_at": _soon(days=1),
        },
        headers=headers,
    )
    assert backwards.status_code == 422

    window = await client.get(
        f"{BASE}/meetings",
        params={"contact_id": ana, "from": _soon(days=1), "to": _soon(days=7)},
        headers=headers,
    )
    assert [m["title"] for m in window.json()["items"]] == ["Dentista"]

    renamed = await client.patch(
        f"{BASE}/meetings/{dentist['id']}",
        json={"title": "Dentista (Dra. Paula)", "location": None},
        headers=headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["title"], renamed.json()["location"]) == ("Dentista (Dra. Paula)", None)
    both = await client.patch(
        f"{BASE}/meetings/{dentist['id']}",
        json={"status": "cancelled", "title": "x"},
        headers=headers,
    )
    assert both.status_code == 422
    cancelled = await client.patch(
        f"{BASE}/meetings/{dentist['id']}", json={"status": "cancelled"}, headers=headers
    )
    assert cancelled.json()["status"] == "cancelled"
    late_edit = await client.patch(
        f"{BASE}/meetings/{dentist['id']}", json={"title": "y"}, headers=headers
    )
    assert late_edit.status_code == 409
    scheduled = await client.get(
        f"{BASE}/meetings", params={"contact_id": ana, "status": "scheduled"}, headers=headers
    )
    assert [m["id"] for m in scheduled.json()["items"]] == [trip["id"]]

    assert (
        await client.delete(f"{BASE}/meetings/{trip['id']}", headers=headers)
    ).status_code == 204
    assert (await client.get(f"{BASE}/meetings/{trip['id']}", headers=headers)).status_code == 404


async def test_another_tenants_records_are_not_found(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    victim = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    person = (
        await client.post(
            f"{BASE}/people", json={"contact_id": ana, "name": "Rita"}, headers=victim
        )
    ).json()
    reminder = (
        await client.post(
            f"{BASE}/reminders",
            json={"contact_id": ana, "text": "segredo", "due_at": _soon(days=1)},
            headers=victim,
        )
    ).json()
    meeting = (
        await client.post(
            f"{BASE}/meetings",
            json={"contact_id": ana, "title": "segredo", "starts_at": _soon(days=1)},
            headers=victim,
        )
    ).json()

    other = await _other_tenant(container)
    attacker = auth(other["key"])
    own_contact = await _contact(container, other["id"], BRUNO)
    ids = {"people": person["id"], "reminders": reminder["id"], "meetings": meeting["id"]}
    changes = {
        "people": {"name": "hijacked"},
        "reminders": {"text": "hijacked"},
        "meetings": {"title": "hijacked"},
    }
    for kind, row_id in ids.items():
        url = f"{BASE}/{kind}/{row_id}"
        assert (await client.get(url, headers=attacker)).status_code == 404
        assert (await client.patch(url, json=changes[kind], headers=attacker)).status_code == 404
        assert (await client.delete(url, headers=attacker)).status_code == 404
        listed = await client.get(f"{BASE}/{kind}", headers=attacker)
        assert (listed.status_code, listed.json()["items"]) == (200, [])
        by_victims_contact = await client.get(
            f"{BASE}/{kind}", params={"contact_id": ana}, headers=attacker
        )
        assert by_victims_contact.status_code == 404
    assert (
        await client.get(
            f"{BASE}/interactions", params={"person_id": person["id"]}, headers=attacker
        )
    ).status_code == 404

    # Writing into the victim's contact, or pointing at the victim's person, is refused.
    writes = {
        "people": {"contact_id": ana, "name": "x"},
        "interactions": {"contact_id": ana, "summary": "x"},
        "reminders": {"contact_id": ana, "text": "x", "due_at": _soon(days=1)},
        "meetings": {"contact_id": ana, "title": "x", "starts_at": _soon(days=1)},
    }
    for kind, body in writes.items():
        response = await client.post(f"{BASE}/{kind}", json=body, headers=attacker)
        assert response.status_code == 404, (kind, response.text)
        pointing = {**body, "contact_id": own_contact, "person_id": person["id"]}
        if kind != "people":
            response = await client.post(f"{BASE}/{kind}", json=pointing, headers=attacker)
            assert response.status_code == 404, (kind, response.text)

    # Nothing of the victim's changed.
    for kind, row_id in ids.items():
        seen = (await client.get(f"{BASE}/{kind}/{row_id}", headers=victim)).json()
        assert "hijacked" not in str(seen)
    assert await _count(container, Person) == 1


async def test_a_read_only_key_reads_but_cannot_write(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    admin = auth(tenant["key"])
    ana = await _contact(container, tenant["id"])
    person = (
        await client.post(f"{BASE}/people", json={"contact_id": ana, "name": "Rita"}, headers=admin)
    ).json()
    issued = await client.post(
        "/identity/api-keys",
        json={"name": "crm reader", "scopes": ["relationships:read"]},
        headers=admin,
    )
    assert issued.status_code == 201, issued.text
    reader = auth(issued.json()["key"])

    for kind in ("people", "interactions", "reminders", "meetings"):
        assert (await client.get(f"{BASE}/{kind}", headers=reader)).status_code == 200
    assert (await client.get(f"{BASE}/people/{person['id']}", headers=reader)).status_code == 200
    writes = [
        ("POST", f"{BASE}/people", {"contact_id": ana, "name": "x"}),
        ("PATCH", f"{BASE}/people/{person['id']}", {"name": "x"}),
        ("DELETE", f"{BASE}/people/{person['id']}", None),
        ("POST", f"{BASE}/interactions", {"contact_id": ana, "summary": "x"}),
        ("POST", f"{BASE}/reminders", {"contact_id": ana, "text": "x", "due_at": _soon(days=1)}),
        ("PATCH", f"{BASE}/reminders/{new_id()}", {"text": "x"}),
        ("DELETE", f"{BASE}/reminders/{new_id()}", None),
        ("POST", f"{BASE}/meetings", {"contact_id": ana, "title": "x", "starts_at": _soon(days=1)}),
        ("PATCH", f"{BASE}/meetings/{new_id()}", {"title": "x"}),
        ("DELETE", f"{BASE}/meetings/{new_id()}", None),
    ]
    for method, url, body in writes:
        response = await client.request(method, url, json=body, headers=reader)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["error"]["message"] == "not allowed: relationships:write"
    assert await _count(container, Person) == 1

    nothing = await client.post(
        "/identity/api-keys", json={"name": "other", "scopes": ["contacts:*"]}, headers=admin
    )
    assert (
        await client.get(f"{BASE}/people", headers=auth(nothing.json()["key"]))
    ).status_code == 403
