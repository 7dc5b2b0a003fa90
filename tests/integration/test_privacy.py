"""Export and erasure of a contact across every module, files included (LGPD / GDPR)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import drain
from tests.fakes.twilio import new_sid, status_params
from tests.twilio_support import TwilioTenant
from whatsapp_ai.ai.privacy import asks_for_erasure, confirms_erasure
from whatsapp_ai.channels.models import InboundEvent, MediaItem, SandboxOutbox
from whatsapp_ai.channels.twilio.models import TwilioOutbound
from whatsapp_ai.conversation.models import Conversation, Message
from whatsapp_ai.core.db import Base
from whatsapp_ai.core.leases import LeaseRow
from whatsapp_ai.core.queue.sql import JobRow
from whatsapp_ai.identity.models import Contact, ErasureRecord
from whatsapp_ai.models import import_all_models

ANA = "+5511987654321"
BRUNO = "+5511912345678"
IMAGE = b"\xff\xd8\xff\xe0" + b"receita-medica" * 50

# Tables keyed by tenant that hold no contact's personal data (the tenant's own setup).
TENANT_LEVEL = {
    "tenants",
    "api_keys",
    "users",
    "twilio_accounts",
    "erasure_records",
    "subscriptions",
    "billing_plan_changes",
    "billing_usage",
    "billing_reservations",
    "billing_alerts",
    "billing_stripe_customers",
    "stripe_events",
    "conversation_policies",
    "operator_states",
    "sales_products",
    "sales_stripe_accounts",
    "knowledge_documents",
    "knowledge_chunks",
    "assistant_settings",
}
# Tables erased per contact by the registered erasers.
CONTACT_DATA = {
    "contacts",
    "conversations",
    "conversation_transitions",
    "assistant_traces",
    "assistant_dialogue",
    "messages",
    "inbound_events",
    "media",
    "sandbox_outbox",
    "twilio_outbound",
    "finance_entries",
    "crm_people",
    "crm_interactions",
    "crm_reminders",
    "crm_meetings",
    "sales_orders",
    "sales_order_items",
    "sales_order_writes",
    "sales_leads",
}


def test_every_tenant_table_is_covered_by_erasure_or_is_tenant_level() -> None:
    import_all_models()
    with_tenant = {
        name for name, table in Base.metadata.tables.items() if "tenant_id" in table.columns
    }
    assert with_tenant - TENANT_LEVEL - CONTACT_DATA == set(), "register an eraser for it"


async def _talk(t: TwilioTenant, sender: str, text: str, *, image: bool = False) -> str:
    message_sid = new_sid("MM" if image else "SM")
    media: list[tuple[str, str]] = []
    if image:
        url = t.fake.add_media(t.account_sid, message_sid, new_sid("ME"), IMAGE, "image/jpeg")
        media = [(url, "image/jpeg")]
    form = t.form(
        body=text,
        from_=f"whatsapp:{sender}",
        message_sid=message_sid,
        media=media,
        profile_name="Ana Paula" if sender == ANA else "Bruno",
    )
    assert (await t.post_inbound(form)).status_code == 200
    await drain(t.container)
    return message_sid


async def _count(t: TwilioTenant, model: Any, *where: Any) -> int:
    async with t.container.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _listed(held: Any) -> int:
    """Rows an export lists for one module (its lists' items; a lone record counts one)."""
    if isinstance(held, list):
        return len(held)
    if isinstance(held, dict):
        lists = [value for value in held.values() if isinstance(value, list)]
        return sum(len(value) for value in lists) if lists else int(bool(held))
    return int(bool(held))


async def test_export_then_erase_a_contact_everywhere(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    headers = {"Authorization": f"Bearer {t.api_key}"}
    await _talk(t, ANA, "meu CPF é 529.982.247-25, segue a receita", image=True)
    await _talk(t, ANA, "obrigada")
    await _talk(t, BRUNO, "oi, sou o Bruno")
    sent = [m for m in t.fake.messages if m.to == f"whatsapp:{ANA}"]
    assert len(sent) == 2
    assert (
        await t.post_status(status_params(sent[0].sid, "delivered", t.account_sid))
    ).status_code == 204
    # Something the simulator sent the same person, and a stale turn lease of a crashed worker.
    sandbox = await t.client.post(
        "/channels/sandbox/messages", json={"from": ANA, "text": "pelo simulador"}, headers=headers
    )
    assert sandbox.status_code == 202
    await drain(t.container)
    async with t.container.db.transaction() as session:
        session.add(
            LeaseRow(
                key=f"turn:{t.tenant_id}:twilio:{ANA}",
                owner="dead",
                expires_at=t.container.clock.now(),
            )
        )
        ana = await session.scalar(select(Contact).where(Contact.address == ANA))
        assert ana is not None
        ana_id = ana.id
        [blob_key] = [m.blob_key for m in await session.scalars(select(MediaItem)) if m.blob_key]
    assert await t.container.blobs.get(blob_key) == IMAGE

    exported = await t.client.get(f"/identity/contacts/{ana_id}/export", headers=headers)
    assert exported.status_code == 200
    data = exported.json()["data"]
    assert set(data) == {
        "channels",
        "conversation",
        "jobs",
        "leases",
        "relationships",
        "finance",
        "assistant",
        "dialogue",
        "sales",
        "identity",
    }
    assert data["identity"]["address"] == ANA
    bodies = [m["body"] for m in data["conversation"]["messages"]]
    assert "obrigada" in bodies
    assert len(data["channels"]["inbound"]) == 3
    assert data["channels"]["media"][0]["content_type"] == "image/jpeg"
    assert len(data["channels"]["twilio_sent"]) == 2
    assert len(data["channels"]["sandbox_sent"]) == 1
    assert data["leases"] == [f"turn:{t.tenant_id}:twilio:{ANA}"]
    assert "Bruno" not in exported.text

    bundle = await t.client.get(
        f"/identity/contacts/{ana_id}/export", params={"files": "true"}, headers=headers
    )
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = archive.namelist()
        assert "export.json" in names
        [photo] = [name for name in names if name.startswith("files/")]
        assert archive.read(photo) == IMAGE
        assert json.loads(archive.read("export.json"))["data"]["identity"]["address"] == ANA

    erased = await t.client.post(f"/identity/contacts/{ana_id}/erasure", headers=headers)
    assert erased.status_code == 201, erased.text
    body = erased.json()
    assert body["files_deleted"] == 1
    assert body["removed"]["identity"] == 1
    # The audit counts what was erased: every row the export listed, module by module.
    traced = len(data["assistant"]["traces"])
    assert traced >= 2
    assert body["removed"]["assistant"] == traced
    for module, held in data.items():
        assert body["removed"][module] >= _listed(held), (module, body["removed"])

    # Nothing of Ana remains in any store.
    assert await _count(t, Contact, Contact.address == ANA) == 0
    assert await _count(t, InboundEvent, InboundEvent.sender == ANA) == 0
    assert await _count(t, MediaItem) == 0
    assert await _count(t, SandboxOutbox, SandboxOutbox.recipient == ANA) == 0
    assert await _count(t, Conversation, Conversation.contact_id == ana_id) == 0
    assert await _count(t, LeaseRow, LeaseRow.key.contains(ANA)) == 0
    async with t.container.db.read() as session:
        texts = [m.body for m in await session.scalars(select(Message))]
        parts = [p.body for p in await session.scalars(select(TwilioOutbound))]
        payloads = [str(j.payload) for j in await session.scalars(select(JobRow))]
        [record] = list(await session.scalars(select(ErasureRecord)))
    assert not any("obrigada" in text or "529.982.247-25" in text for text in texts)
    assert len(parts) == 1  # Bruno's reply only
    assert not any(ANA in payload for payload in payloads)
    try:
        await t.container.blobs.get(blob_key)
        raise AssertionError("the image file should be gone")
    except KeyError:
        pass
    # The audit record proves the erasure without keeping who it was about beyond the id.
    assert record.contact_id == ana_id
    assert ANA not in str(record.removed)

    # Bruno is untouched.
    assert await _count(t, Contact, Contact.address == BRUNO) == 1
    assert await _count(t, InboundEvent, InboundEvent.sender == BRUNO) == 1
    assert any("Bruno" in text for text in texts)

    # Ana writing again starts afresh.
    await _talk(t, ANA, "oi de novo")
    assert await _count(t, Contact, Contact.address == ANA) == 1


async def test_delete_erases_a_contact_and_answers_204(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    await _talk(t, ANA, "oi")
    await _talk(t, BRUNO, "oi")
    headers = {"Authorization": f"Bearer {t.api_key}"}
    async with t.container.db.read() as session:
        ana = await session.scalar(select(Contact).where(Contact.address == ANA))
    assert ana is not None
    deleted = await t.client.delete(f"/identity/contacts/{ana.id}", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert await _count(t, Contact, Contact.address == ANA) == 0
    assert await _count(t, Contact, Contact.address == BRUNO) == 1
    again = await t.client.delete(f"/identity/contacts/{ana.id}", headers=headers)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


async def test_erasure_needs_the_privacy_permission(twilio_tenant: TwilioTenant) -> None:
    t = twilio_tenant
    await _talk(t, ANA, "oi")
    async with t.container.db.transaction() as session:
        ana = await session.scalar(select(Contact))
        assert ana is not None
        from whatsapp_ai.identity import service as identity

        _key, reader = await identity.create_api_key(
            session,
            tenant_id=t.tenant_id,
            name="reader",
            scopes=["contacts:*"],
            now=t.container.clock.now(),
        )
    headers = {"Authorization": f"Bearer {reader}"}
    assert (
        await t.client.post(f"/identity/contacts/{ana.id}/erasure", headers=headers)
    ).status_code == 403
    assert (
        await t.client.get(f"/identity/contacts/{ana.id}/export", headers=headers)
    ).status_code == 403
    assert await _count(t, Contact) == 1


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("apague meus dados", True),
        ("Por favor, exclua todos os meus dados!", True),
        ("quero que vocês esqueçam de mim", True),
        ("please delete my data", True),
        ("forget me", True),
        ("apaga esse último gasto", False),
        ("meus dados de entrega estão certos?", False),
        ("delete the last expense", False),
    ],
)
def test_erasure_requests_are_recognized(text: str, asks: bool) -> None:
    assert asks_for_erasure(text) is asks


@pytest.mark.parametrize(
    ("text", "confirms"),
    [
        ("APAGAR", True),
        ("sim, apagar", True),
        ("Delete.", True),
        ("sim", False),
        ("apagar tudo?", False),
    ],
)
def test_only_the_explicit_word_confirms(text: str, confirms: bool) -> None:
    assert confirms_erasure(text) is confirms


async def test_a_contact_can_erase_their_data_in_chat_after_confirming(
    twilio_tenant: TwilioTenant,
) -> None:
    t = twilio_tenant
    await _talk(t, ANA, "oi, meu CPF é 529.982.247-25", image=True)
    await _talk(t, ANA, "apague meus dados")
    prompt = t.fake.messages[-1]
    assert prompt.to == f"whatsapp:{ANA}"
    assert "responda APAGAR" in (prompt.body or "")
    assert await _count(t, Contact, Contact.address == ANA) == 1

    # Anything else cancels: nothing is erased.
    await _talk(t, ANA, "mudei de ideia")
    await _talk(t, ANA, "APAGAR")
    assert await _count(t, Contact, Contact.address == ANA) == 1

    await _talk(t, ANA, "quero que vocês apaguem meus dados")
    await _talk(t, BRUNO, "oi")
    await _talk(t, ANA, "APAGAR")
    farewell = t.fake.messages[-1]
    assert farewell.to == f"whatsapp:{ANA}"
    assert (farewell.body or "").startswith("Pronto: apagamos todos os seus dados")

    assert await _count(t, Contact, Contact.address == ANA) == 0
    assert await _count(t, InboundEvent, InboundEvent.sender == ANA) == 0
    assert await _count(t, MediaItem) == 0
    async with t.container.db.read() as session:
        payloads = [str(job.payload) for job in await session.scalars(select(JobRow))]
        [record] = list(await session.scalars(select(ErasureRecord)))
        texts = [m.body for m in await session.scalars(select(Message))]
    assert not any(ANA in payload for payload in payloads)  # the farewell job is gone too
    assert record.requested_by == "contact"
    assert not any("529.982.247-25" in text for text in texts)
    assert await _count(t, Contact, Contact.address == BRUNO) == 1
