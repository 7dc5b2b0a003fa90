"""Property: whatever the mix of tenants and contacts, each tenant sees only its own."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from tests.conftest import make_settings, run_coro
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import system_scope, tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.identity import service as identity
from whatsapp_ai.identity.models import Contact

phones = st.integers(min_value=11_900_000_000, max_value=11_999_999_999).map(lambda n: f"+55{n}")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(owners=st.lists(st.tuples(st.integers(0, 2), phones), min_size=1, max_size=12))
def test_contacts_are_scoped_to_their_tenant(
    db_url: str, tmp_path: Path, owners: list[tuple[int, str]]
) -> None:
    async def check() -> None:
        container = bootstrap(make_settings(db_url, tmp_path))
        try:
            now = container.clock.now()
            async with container.db.transaction() as session:
                tenants = [
                    await identity.create_tenant(
                        session, name=f"T{i}", slug=f"t-{new_id().lower()[-12:]}", now=now
                    )
                    for i in range(3)
                ]
                expected: dict[str, set[str]] = {tenant.id: set() for tenant in tenants}
                for index, phone in owners:
                    tenant_id = tenants[index].id
                    contact = await identity.get_or_create_contact(
                        session, tenant_id=tenant_id, address=phone, profile_name=None, now=now
                    )
                    expected[tenant_id].add(contact.id)
            async with container.db.read() as session:
                for tenant in tenants:
                    seen = await identity.list_contacts(
                        session, tenant_id=tenant.id, cursor=None, limit=200
                    )
                    assert {contact.id for contact in seen.items} == expected[tenant.id]
                    for other_id, others in expected.items():
                        if other_id == tenant.id:
                            continue
                        for contact_id in others:
                            found = await identity.get_contact(
                                session, tenant_id=tenant.id, contact_id=contact_id
                            )
                            assert found is None
        finally:
            await container.close()

    run_coro(check())


async def test_inside_a_tenant_scope_an_unfiltered_query_sees_only_that_tenant(
    container: Container,
) -> None:
    now = container.clock.now()
    with system_scope():
        async with container.db.transaction() as session:
            owners = []
            for index in range(2):
                tenant = await identity.create_tenant(
                    session, name=f"T{index}", slug=f"t-{new_id().lower()[-12:]}", now=now
                )
                await identity.get_or_create_contact(
                    session,
                    tenant_id=tenant.id,
                    address=f"+55119{index:08d}",
                    profile_name=None,
                    now=now,
                )
                owners.append(tenant.id)
    with tenant_scope(owners[0]):
        async with container.db.transaction() as session:
            seen = list(await session.scalars(select(Contact)))  # no tenant filter on purpose
            changed = await session.execute(update(Contact).values(display_name="x"))
    assert [contact.tenant_id for contact in seen] == [owners[0]]
    assert changed.rowcount == 1  # type: ignore[attr-defined]
    with system_scope():
        async with container.db.read() as session:
            names = {c.tenant_id: c.display_name for c in await session.scalars(select(Contact))}
    assert names == {owners[0]: "x", owners[1]: None}
