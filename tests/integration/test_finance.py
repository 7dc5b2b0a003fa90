"""Finance: a contact's expenses and income, exact to the cent, on their own calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import as_app_role, auth, make_settings
from tests.desk_support import sign_in
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.db import tenant_scope
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.vocabulary import Category, Kind
from whatsapp_ai.finance import service as finance
from whatsapp_ai.finance.models import FinanceEntry
from whatsapp_ai.finance.service import InvalidEntryError, UnknownContactError
from whatsapp_ai.identity import service as identity

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A wall-clock time in São Paulo."""
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO)


async def _contact(
    container: Container, tenant_id: str, address: str, timezone: str | None = None
) -> str:
    async with container.db.transaction() as session:
        contact = await identity.get_or_create_contact(
            session, tenant_id=tenant_id, address=address, profile_name=None, now=NOW
        )
        if timezone is not None:
            await identity.update_contact(
                session,
                tenant_id=tenant_id,
                contact_id=contact.id,
                changes={"timezone": timezone},
                now=NOW,
            )
        return contact.id


async def _tenant(container: Container, name: str = "Outra Loja") -> tuple[str, str]:
    async with container.db.transaction() as session:
        created = await identity.create_tenant(
            session, name=name, slug=f"t-{new_id().lower()[-10:]}", now=NOW
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=created.id, name="b", now=NOW
        )
    return created.id, secret


async def _record(
    container: Container, tenant_id: str, contact_id: str, amount: str, **values: Any
) -> FinanceEntry:
    values.setdefault("kind", Kind.EXPENSE)
    async with container.db.transaction() as session:
        entry, _created = await finance.record(
            session, tenant_id=tenant_id, contact_id=contact_id, amount=amount, now=NOW, **values
        )
        return entry


async def _count(container: Container, *where: Any) -> int:
    async with container.db.read() as session:
        found = await session.scalar(select(func.count()).select_from(FinanceEntry).where(*where))
        return int(found or 0)


# --- service ----------------------------------------------------------------------------------


async def test_a_retried_turn_records_its_entry_once(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    async with container.db.transaction() as session:
        first, created = await finance.record(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            kind=Kind.EXPENSE,
            amount="50.00",
            category=Category.GROCERIES,
            source_key="evt-1:0",
            now=NOW,
        )
        assert created
    async with container.db.transaction() as session:
        again, created = await finance.record(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            kind=Kind.EXPENSE,
            amount="55.00",  # the model read it differently the second time: first one wins
            source_key="evt-1:0",
            now=NOW,
        )
        assert not created
        second, created = await finance.record(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            kind="income",
            amount=Decimal("10"),
            source_key="evt-1:1",
            now=NOW,
        )
        assert created
    assert again.id == first.id
    assert again.amount == Decimal("50.00")
    assert second.amount == Decimal("10.00")
    assert second.currency == "BRL"
    # Without a key each call is a new entry.
    await _record(container, tenant["id"], ana, "1.00")
    await _record(container, tenant["id"], ana, "1.00")
    assert await _count(container, FinanceEntry.contact_id == ana) == 4


async def test_record_refuses_what_an_entry_cannot_hold(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    other_tenant, _ = await _tenant(container)
    stranger = await _contact(container, other_tenant, "+5511999990009")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"amount": 0.1}, "amount"),  # a float has lost the cents already
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "cinquenta"}, "amount"),
        ({"amount": "1000000000000.00"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "R$"}, "currency"),
        ({"category": "food"}, "category"),
        ({"kind": "gift"}, "kind"),
        ({"payment_method": "cheque"}, "payment_method"),
        ({"occurred_at": datetime(2026, 11, 1, 10, 0)}, "occurred_at"),  # naive
        ({"note": "x" * 1001}, "note"),
        ({"source_key": "k" * 121}, "source_key"),
    ]
    for change, field in bad:
        values: dict[str, Any] = {"kind": Kind.EXPENSE, "amount": "10.00", **change}
        async with container.db.transaction() as session:
            with pytest.raises(InvalidEntryError) as raised:
                await finance.record(
                    session, tenant_id=tenant["id"], contact_id=ana, now=NOW, **values
                )
        assert raised.value.field == field, change
    for contact_id in ("no-such-contact", stranger):
        async with container.db.transaction() as session:
            with pytest.raises(UnknownContactError):
                await finance.record(
                    session,
                    tenant_id=tenant["id"],
                    contact_id=contact_id,
                    kind=Kind.EXPENSE,
                    amount="1.00",
                    now=NOW,
                )
    assert await _count(container) == 0
    # Lower case codes and surrounding spaces are read kindly.
    entry = await _record(container, tenant["id"], ana, " 7.5 ", currency="usd")
    assert (entry.amount, entry.currency) == (Decimal("7.50"), "USD")


async def test_edit_and_delete_the_last_entry(container: Container, tenant: dict[str, str]) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001", "America/Sao_Paulo")
    bruno = await _contact(container, tenant["id"], "+5511999990002")
    first = await _record(container, tenant["id"], ana, "30.00", occurred_at=at(2026, 11, 20))
    salary = await _record(
        container, tenant["id"], ana, "5000.00", kind=Kind.INCOME, category=Category.SALARY
    )
    last = await _record(container, tenant["id"], ana, "50.00", occurred_at=at(2026, 11, 24))
    other = await _record(container, tenant["id"], bruno, "99.00")

    async with container.db.transaction() as session:
        edited = await finance.edit_last(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            changes={
                "amount": "45.00",
                "category": "restaurants",
                "payment_method": "pix",
                "occurred_at": at(2026, 11, 23, 23, 30),
            },
            now=NOW + timedelta(minutes=1),
        )
        assert edited is not None
        assert edited.id == last.id
        assert (edited.amount, edited.category, edited.payment_method) == (
            Decimal("45.00"),
            "restaurants",
            "pix",
        )
        assert edited.occurred_on == date(2026, 11, 23)
        assert edited.updated_at == NOW + timedelta(minutes=1)
        with pytest.raises(InvalidEntryError) as raised:
            await finance.edit_last(
                session, tenant_id=tenant["id"], contact_id=ana, changes={"amount": None}, now=NOW
            )
        assert raised.value.field == "amount"
        with pytest.raises(InvalidEntryError) as raised:
            await finance.edit_last(
                session,
                tenant_id=tenant["id"],
                contact_id=ana,
                changes={"contact_id": bruno},
                now=NOW,
            )
        assert raised.value.field == "contact_id"
        # The last income, not the last entry.
        last_income = await finance.last_entry(
            session, tenant_id=tenant["id"], contact_id=ana, kind=Kind.INCOME
        )
        assert last_income is not None
        assert last_income.id == salary.id

    async with container.db.transaction() as session:
        removed = await finance.delete_last(session, tenant_id=tenant["id"], contact_id=ana)
    assert removed is not None
    assert (removed.id, removed.amount) == (last.id, Decimal("45.00"))
    async with container.db.transaction() as session:
        now_last = await finance.last_entry(session, tenant_id=tenant["id"], contact_id=ana)
        assert now_last is not None
        assert now_last.id == salary.id
        removed = await finance.delete_last(
            session, tenant_id=tenant["id"], contact_id=ana, kind=Kind.EXPENSE
        )
        assert removed is not None
        assert removed.id == first.id
        assert (
            await finance.delete_last(
                session, tenant_id=tenant["id"], contact_id=ana, kind=Kind.EXPENSE
            )
            is None
        )
    carla = await _contact(container, tenant["id"], "+5511999990003")
    async with container.db.transaction() as session:
        nothing = await finance.edit_last(
            session, tenant_id=tenant["id"], contact_id=carla, changes={"amount": "1"}, now=NOW
        )
        assert nothing is None
        assert await finance.delete_last(session, tenant_id=tenant["id"], contact_id=carla) is None
    assert await _count(container, FinanceEntry.id == other.id) == 1


async def test_entries_by_id_are_only_the_tenants_own(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    entry = await _record(container, tenant["id"], ana, "12.34")
    other_tenant, _ = await _tenant(container)
    async with container.db.transaction() as session:
        assert await finance.get(session, tenant_id=other_tenant, entry_id=entry.id) is None
        assert (
            await finance.update(
                session,
                tenant_id=other_tenant,
                entry_id=entry.id,
                changes={"amount": "1.00"},
                now=NOW,
            )
            is None
        )
        assert await finance.delete(session, tenant_id=other_tenant, entry_id=entry.id) is None
    async with container.db.transaction() as session:
        mine = await finance.get(session, tenant_id=tenant["id"], entry_id=entry.id)
        assert mine is not None
        assert mine.amount == Decimal("12.34")
        updated = await finance.update(
            session,
            tenant_id=tenant["id"],
            entry_id=entry.id,
            changes={"note": "  feira  ", "kind": "income"},
            now=NOW,
        )
        assert updated is not None
        assert (updated.note, updated.kind) == ("feira", "income")
        removed = await finance.delete(session, tenant_id=tenant["id"], entry_id=entry.id)
        assert removed is not None
    assert await _count(container) == 0


async def test_days_are_the_contacts_own_across_time_zones(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001", "America/Sao_Paulo")
    kenji = await _contact(container, tenant["id"], "+818012345678", "Asia/Tokyo")
    nobody_said = await _contact(container, tenant["id"], "+5511999990003")
    # 23:30 on 30 November in São Paulo is already 1 December in UTC.
    late = at(2026, 11, 30, 23, 30)
    assert late.astimezone(UTC).date() == date(2026, 12, 1)
    dinner = await _record(
        container, tenant["id"], ana, "80.00", category="restaurants", occurred_at=late
    )
    assert dinner.occurred_on == date(2026, 11, 30)
    # 16:00 UTC on 30 November is 1 December in Tokyo.
    breakfast = await _record(
        container, tenant["id"], kenji, "10.00", occurred_at=datetime(2026, 11, 30, 16, tzinfo=UTC)
    )
    assert breakfast.occurred_on == date(2026, 12, 1)
    # No time zone known: Brazil's.
    fallback = await _record(
        container,
        tenant["id"],
        nobody_said,
        "5.00",
        occurred_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
    )
    assert fallback.occurred_on == date(2026, 11, 30)

    async with container.db.read() as session:
        day = await finance.totals(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            start=date(2026, 11, 30),
            end=date(2026, 11, 30),
        )
        next_day = await finance.totals(
            session,
            tenant_id=tenant["id"],
            contact_id=ana,
            start=date(2026, 12, 1),
            end=date(2026, 12, 1),
        )
        november = await finance.month_summary(
            session, tenant_id=tenant["id"], contact_id=ana, year=2026, month=11
        )
        december = await finance.month_summary(
            session, tenant_id=tenant["id"], contact_id=ana, year=2026, month=12
        )
        kenji_december = await finance.month_summary(
            session, tenant_id=tenant["id"], contact_id=kenji, year=2026, month=12
        )
        listed = await finance.list_entries(
            session, tenant_id=tenant["id"], start=date(2026, 11, 30), end=date(2026, 11, 30)
        )
    assert day.of("BRL").expense.total == Decimal("80.00")
    assert next_day.count == 0
    assert november.expense.by_category == {"restaurants": Decimal("80.00")}
    assert december.expense.total == Decimal("0.00")
    assert december.previous_expense.total == Decimal("80.00")
    assert kenji_december.expense.total == Decimal("10.00")
    assert {entry.id for entry in listed.items} == {dinner.id, fallback.id}


async def test_sums_are_exact_to_the_cent(container: Container, tenant: dict[str, str]) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    for amount in ("0.10", "0.20"):
        await _record(container, tenant["id"], ana, amount, category="transport")
    for _ in range(10):
        await _record(container, tenant["id"], ana, "0.10", category="groceries")
    await _record(container, tenant["id"], ana, "999999999999.99", category="housing")
    await _record(container, tenant["id"], ana, "0.01", category="housing")
    await _record(container, tenant["id"], ana, "3000.00", kind=Kind.INCOME, category="salary")
    await _record(container, tenant["id"], ana, "12.50", currency="USD", category="shopping")
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    async with container.db.read() as session:
        found = await finance.totals(
            session, tenant_id=tenant["id"], contact_id=ana, start=start, end=end
        )
        expenses = await finance.totals(
            session, tenant_id=tenant["id"], contact_id=ana, start=start, end=end, kind=Kind.EXPENSE
        )
        with pytest.raises(InvalidEntryError):
            await finance.totals(
                session, tenant_id=tenant["id"], contact_id=ana, start=end, end=start
            )
    brl = found.of("BRL")
    assert brl.expense.by_category["transport"] == Decimal("0.30")
    assert str(brl.expense.by_category["transport"]) == "0.30"
    assert brl.expense.by_category["groceries"] == Decimal("1.00")
    assert brl.expense.by_category["housing"] == Decimal("1000000000000.00")
    assert brl.expense.total == Decimal("1000000000001.30")
    assert list(brl.expense.by_category) == ["housing", "groceries", "transport"]  # largest first
    assert brl.expense.count == 14
    assert brl.income.total == Decimal("3000.00")
    assert brl.income.by_category == {"salary": Decimal("3000.00")}
    assert brl.net == Decimal("3000.00") - Decimal("1000000000001.30")
    assert found.of("USD").expense.total == Decimal("12.50")
    assert list(found.currencies) == ["BRL", "USD"]
    assert found.count == 16
    assert found.of("EUR").count == 0
    assert expenses.of("BRL").income.count == 0
    assert expenses.count == 15
    for totals in found.currencies.values():
        for kind in Kind:
            assert all(isinstance(v, Decimal) for v in totals.of(kind).by_category.values())


async def test_balance_is_income_minus_expenses_of_all_time(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    bruno = await _contact(container, tenant["id"], "+5511999990002")
    await _record(
        container, tenant["id"], ana, "1000.00", kind="income", occurred_at=at(2024, 1, 5)
    )
    await _record(container, tenant["id"], ana, "0.10", occurred_at=at(2025, 6, 1))
    await _record(container, tenant["id"], ana, "0.20", occurred_at=at(2026, 11, 2))
    await _record(container, tenant["id"], ana, "20.00", currency="USD")
    await _record(container, tenant["id"], bruno, "7.00", kind="income")
    async with container.db.read() as session:
        brl = await finance.balance(session, tenant_id=tenant["id"], contact_id=ana)
        usd = await finance.balance(session, tenant_id=tenant["id"], contact_id=ana, currency="USD")
        eur = await finance.balance(session, tenant_id=tenant["id"], contact_id=ana, currency="EUR")
        every = await finance.balances(session, tenant_id=tenant["id"], contact_id=ana)
    assert brl == Decimal("999.70")
    assert str(brl) == "999.70"
    assert usd == Decimal("-20.00")
    assert eur == Decimal("0")
    assert every == {"BRL": Decimal("999.70"), "USD": Decimal("-20.00")}


async def test_month_summary_compares_with_the_month_before(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001", "America/Sao_Paulo")
    october = [("groceries", "100.00"), ("restaurants", "50.00")]
    november = [("groceries", "150.00"), ("transport", "30.00"), ("health", "200.00")]
    for day, (category, amount) in enumerate(october, start=1):
        await _record(
            container, tenant["id"], ana, amount, category=category, occurred_at=at(2026, 10, day)
        )
    for day, (category, amount) in enumerate(november, start=1):
        await _record(
            container, tenant["id"], ana, amount, category=category, occurred_at=at(2026, 11, day)
        )
    await _record(
        container,
        tenant["id"],
        ana,
        "5000.00",
        kind="income",
        category="salary",
        occurred_at=at(2026, 11, 5),
    )
    await _record(container, tenant["id"], ana, "9.99", currency="USD", occurred_at=at(2026, 11, 6))
    # The year turns: December 2026 is the month before January 2027.
    await _record(
        container, tenant["id"], ana, "60.00", category="bills", occurred_at=at(2026, 12, 31, 23)
    )
    async with container.db.read() as session:
        summary = await finance.month_summary(
            session, tenant_id=tenant["id"], contact_id=ana, year=2026, month=11
        )
        january = await finance.month_summary(
            session, tenant_id=tenant["id"], contact_id=ana, year=2027, month=1
        )
        with pytest.raises(InvalidEntryError):
            await finance.month_summary(
                session, tenant_id=tenant["id"], contact_id=ana, year=2026, month=13
            )
    assert (summary.start, summary.end) == (date(2026, 11, 1), date(2026, 11, 30))
    assert (summary.previous_start, summary.previous_end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert summary.expense.total == Decimal("380.00")
    assert summary.previous_expense.total == Decimal("150.00")
    assert summary.expense_change == Decimal("230.00")
    assert summary.expense_change_pct == Decimal("153.3")
    assert summary.income.total == Decimal("5000.00")
    assert summary.income_change == Decimal("5000.00")
    assert summary.net == Decimal("4620.00")
    assert summary.previous_net == Decimal("-150.00")
    assert [c.category for c in summary.top_categories] == ["health", "groceries", "transport"]
    changes = {c.category: c for c in summary.categories}
    assert [c.category for c in summary.categories][-1] == "restaurants"
    assert changes["groceries"].change == Decimal("50.00")
    assert changes["groceries"].change_pct == Decimal("50.0")
    assert changes["restaurants"].amount == Decimal("0.00")
    assert changes["restaurants"].change_pct == Decimal("-100.0")
    assert changes["health"].change_pct is None  # nothing the month before
    assert summary.other_currencies == ["USD"]
    assert (january.previous_start, january.previous_end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert january.previous_expense.by_category == {"bills": Decimal("60.00")}
    assert january.expense_change_pct == Decimal("-100.0")
    assert january.top_categories == []


async def test_list_entries_filters_and_pages(container: Container, tenant: dict[str, str]) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    bruno = await _contact(container, tenant["id"], "+5511999990002")
    made = [
        await _record(
            container, tenant["id"], ana, f"{n}.00", category=cat, occurred_at=at(2026, 11, n)
        )
        for n, cat in [(1, "groceries"), (2, "transport"), (3, "groceries"), (4, "health")]
    ]
    await _record(container, tenant["id"], bruno, "8.00", category="groceries")
    async with container.db.read() as session:
        page = await finance.list_entries(session, tenant_id=tenant["id"], contact_id=ana, limit=3)
        rest = await finance.list_entries(
            session, tenant_id=tenant["id"], contact_id=ana, cursor=page.next_cursor, limit=3
        )
        groceries = await finance.list_entries(
            session, tenant_id=tenant["id"], contact_id=ana, category=Category.GROCERIES
        )
        period = await finance.list_entries(
            session, tenant_id=tenant["id"], start=date(2026, 11, 2), end=date(2026, 11, 3)
        )
        incomes = await finance.list_entries(session, tenant_id=tenant["id"], kind=Kind.INCOME)
    assert [e.id for e in page.items + rest.items] == [e.id for e in made]
    assert rest.next_cursor is None
    assert [e.amount for e in groceries.items] == [Decimal("1.00"), Decimal("3.00")]
    assert [e.id for e in period.items] == [made[1].id, made[2].id]
    assert incomes.items == []


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_row_level_security_hides_other_tenants_entries(
    db_url: str, tmp_path: Path, container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    await _record(container, tenant["id"], ana, "10.00")
    other_tenant, _ = await _tenant(container)
    # Even a query without a tenant filter, under the app's own role, sees only its tenant's.
    app = bootstrap(make_settings(as_app_role(db_url), tmp_path / "app"))
    try:
        for scope, expected in ((tenant["id"], 1), (other_tenant, 0)):
            with tenant_scope(scope):
                async with app.db.read() as session:
                    seen = await session.scalar(text("SELECT count(*) FROM finance_entries"))
            assert seen == expected, scope
        with tenant_scope(other_tenant), pytest.raises(DBAPIError, match="row-level security"):
            async with app.db.transaction() as session:
                await session.execute(
                    text(
                        "INSERT INTO finance_entries (id, tenant_id, contact_id, kind, amount,"
                        " currency, category, occurred_at, occurred_on, created_at, updated_at)"
                        " VALUES (:id, :tenant, :contact, 'expense', 1, 'BRL', 'other',"
                        " now(), current_date, now(), now())"
                    ),
                    {"id": new_id(), "tenant": tenant["id"], "contact": ana},
                )
    finally:
        await app.close()


# --- HTTP -----------------------------------------------------------------------------------


def _body(contact_id: str, **values: Any) -> dict[str, Any]:
    return {"contact_id": contact_id, "kind": "expense", "amount": "50.00", **values}


async def test_api_create_read_change_and_delete(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001", "America/Sao_Paulo")
    created = await client.post(
        "/finance/entries",
        json=_body(
            ana,
            category="groceries",
            payment_method="debit_card",
            note="feira",
            occurred_at="2026-11-30T23:30:00-03:00",
        ),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["amount"] == "50.00"
    assert entry["currency"] == "BRL"
    assert entry["occurred_on"] == "2026-11-30"
    assert (entry["category"], entry["payment_method"], entry["note"]) == (
        "groceries",
        "debit_card",
        "feira",
    )
    url = f"/finance/entries/{entry['id']}"
    assert (await client.get(url, headers=headers)).json() == entry

    # Defaults: now, BRL, other.
    plain = await client.post(
        "/finance/entries",
        json={"contact_id": ana, "kind": "income", "amount": 10},
        headers=headers,
    )
    assert plain.status_code == 201, plain.text
    assert (plain.json()["amount"], plain.json()["category"]) == ("10.00", "other")
    assert plain.json()["occurred_at"] is not None

    changed = await client.patch(
        url,
        json={
            "amount": "45.5",
            "currency": "usd",
            "payment_method": None,
            "occurred_at": "2026-12-01T10:00:00Z",
        },
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["amount"], after["currency"], after["payment_method"]) == ("45.50", "USD", None)
    assert after["occurred_on"] == "2026-12-01"
    assert after["note"] == "feira"
    assert (await client.patch(url, json={}, headers=headers)).json()["amount"] == "45.50"

    removed = await client.delete(url, headers=headers)
    assert removed.status_code == 204
    assert removed.content == b""
    assert (await client.get(url, headers=headers)).status_code == 404
    assert (await client.delete(url, headers=headers)).status_code == 404
    assert (await client.patch(url, json={"note": "x"}, headers=headers)).status_code == 404


async def test_api_create_with_a_source_key_records_once(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    body = _body(ana, source_key="import-2026-11:17")
    first = await client.post("/finance/entries", json=body, headers=headers)
    again = await client.post("/finance/entries", json={**body, "amount": "51.00"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await _count(container) == 1


async def test_api_bad_input_gets_422_naming_the_field(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    entry = await _record(container, tenant["id"], ana, "10.00")
    other_tenant, _ = await _tenant(container)
    stranger = await _contact(container, other_tenant, "+5511999990009")
    created: list[tuple[dict[str, Any], str]] = [
        ({"amount": "0"}, "body.amount"),
        ({"amount": "-1"}, "body.amount"),
        ({"amount": "1.234"}, "body.amount"),
        ({"amount": "abc"}, "body.amount"),
        ({"amount": "NaN"}, "body.amount"),
        ({"amount": "1000000000000"}, "body.amount"),
        ({"amount": None}, "body.amount"),
        ({"currency": "XYZ"}, "body.currency"),
        ({"currency": "R$"}, "body.currency"),
        ({"kind": "gift"}, "body.kind"),
        ({"category": "food"}, "body.category"),
        ({"payment_method": "cheque"}, "body.payment_method"),
        ({"occurred_at": "2026-11-30T10:00:00"}, "body.occurred_at"),  # no time zone
        ({"note": "x" * 1001}, "body.note"),
        ({"tenant_id": other_tenant}, "body.tenant_id"),
        ({"contact_id": "no-such-contact"}, "body.contact_id"),
        ({"contact_id": stranger}, "body.contact_id"),
    ]
    for change, field in created:
        response = await client.post(
            "/finance/entries", json={**_body(ana), **change}, headers=headers
        )
        assert response.status_code == 422, (change, response.text)
        fields = [f["field"] for f in response.json()["error"]["fields"]]
        assert fields == [field], (change, fields)
    missing = await client.post("/finance/entries", json={"contact_id": ana}, headers=headers)
    assert missing.status_code == 422
    assert {f["field"] for f in missing.json()["error"]["fields"]} == {"body.kind", "body.amount"}
    assert await _count(container) == 1

    patches: list[tuple[dict[str, Any], str]] = [
        ({"amount": None}, "body.amount"),
        ({"kind": None}, "body.kind"),
        ({"amount": "0.001"}, "body.amount"),
        ({"contact_id": stranger}, "body.contact_id"),
        ({"occurred_at": "yesterday"}, "body.occurred_at"),
    ]
    for change, field in patches:
        response = await client.patch(f"/finance/entries/{entry.id}", json=change, headers=headers)
        assert response.status_code == 422, (change, response.text)
        fields = [f["field"] for f in response.json()["error"]["fields"]]
        assert fields == [field], (change, fields)

    queries: list[tuple[str, dict[str, str], str]] = [
        ("/finance/entries", {"limit": "201"}, "query.limit"),
        ("/finance/entries", {"from": "2026-11-30", "to": "2026-11-01"}, "query.to"),
        ("/finance/entries", {"kind": "gift"}, "query.kind"),
        ("/finance/entries", {"from": "30/11/2026"}, "query.from"),
        ("/finance/summary", {"contact_id": ana, "from": "2026-11-01"}, "query.to"),
        (
            "/finance/summary",
            {"contact_id": ana, "from": "2026-11-02", "to": "2026-11-01"},
            "query.to",
        ),
        ("/finance/months/2026-13", {"contact_id": ana}, "path.month"),
        ("/finance/months/2026-11", {"contact_id": ana, "currency": "XYZ"}, "query.currency"),
        ("/finance/months/2026-11", {}, "query.contact_id"),
    ]
    for path, params, field in queries:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, params, response.text)
        fields = [f["field"] for f in response.json()["error"]["fields"]]
        assert fields == [field], (path, params, fields)


async def test_api_lists_with_filters_and_cursor(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    bruno = await _contact(container, tenant["id"], "+5511999990002")
    for day, category in enumerate(["groceries", "transport", "groceries", "health"], start=1):
        await _record(
            container,
            tenant["id"],
            ana,
            f"{day}.00",
            category=category,
            occurred_at=at(2026, 11, day),
        )
    await _record(container, tenant["id"], ana, "900.00", kind="income", category="freelance")
    await _record(container, tenant["id"], bruno, "7.00")

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"contact_id": ana, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/finance/entries", params=params, headers=headers)).json()
        seen += [item["amount"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["1.00", "2.00", "3.00", "4.00", "900.00"]

    async def amounts(**params: Any) -> list[str]:
        response = await client.get("/finance/entries", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["amount"] for item in response.json()["items"]]

    assert await amounts(contact_id=ana, category="groceries") == ["1.00", "3.00"]
    assert await amounts(kind="income") == ["900.00"]
    assert await amounts(
        contact_id=ana, kind="expense", **{"from": "2026-11-02", "to": "2026-11-03"}
    ) == [
        "2.00",
        "3.00",
    ]
    assert await amounts(contact_id=bruno) == ["7.00"]
    assert await amounts(contact_id="someone-else") == []


async def test_api_summary_and_month(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001", "America/Sao_Paulo")
    await _record(
        container, tenant["id"], ana, "100.00", category="groceries", occurred_at=at(2026, 10, 3)
    )
    await _record(
        container, tenant["id"], ana, "0.10", category="transport", occurred_at=at(2026, 11, 1)
    )
    await _record(
        container, tenant["id"], ana, "0.20", category="transport", occurred_at=at(2026, 11, 2)
    )
    await _record(
        container,
        tenant["id"],
        ana,
        "150.00",
        category="groceries",
        occurred_at=at(2026, 11, 30, 23, 30),
    )
    await _record(
        container,
        tenant["id"],
        ana,
        "3000.00",
        kind="income",
        category="salary",
        occurred_at=at(2026, 11, 5),
    )
    await _record(
        container, tenant["id"], ana, "12.00", currency="USD", occurred_at=at(2026, 11, 6)
    )

    response = await client.get(
        "/finance/summary",
        params={"contact_id": ana, "from": "2026-11-01", "to": "2026-11-30"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["count"]) == ("2026-11-01", "2026-11-30", 5)
    brl, usd = body["currencies"]
    assert brl["currency"] == "BRL"
    assert brl["expense"] == {
        "total": "150.30",
        "count": 3,
        "by_category": {"groceries": "150.00", "transport": "0.30"},
    }
    assert brl["income"] == {"total": "3000.00", "count": 1, "by_category": {"salary": "3000.00"}}
    assert brl["net"] == "2849.70"
    assert usd["expense"]["total"] == "12.00"
    assert body["balances"] == {"BRL": "2749.70", "USD": "-12.00"}

    month = await client.get("/finance/months/2026-11", params={"contact_id": ana}, headers=headers)
    assert month.status_code == 200, month.text
    summary = month.json()
    assert (summary["month"], summary["from"], summary["to"]) == (
        "2026-11",
        "2026-11-01",
        "2026-11-30",
    )
    assert summary["expense"]["total"] == "150.30"
    assert summary["previous"]["month"] == "2026-10"
    assert summary["previous"]["expense"]["total"] == "100.00"
    assert summary["expense_change"] == "50.30"
    assert summary["expense_change_pct"] == "50.3"
    assert summary["income_change"] == "3000.00"
    assert [c["category"] for c in summary["top_categories"]] == ["groceries", "transport"]
    assert summary["top_categories"][0] == {
        "category": "groceries",
        "amount": "150.00",
        "previous": "100.00",
        "change": "50.00",
        "change_pct": "50.0",
    }
    assert summary["other_currencies"] == ["USD"]
    dollars = await client.get(
        "/finance/months/2026-11", params={"contact_id": ana, "currency": "usd"}, headers=headers
    )
    assert dollars.json()["expense"]["total"] == "12.00"
    assert dollars.json()["other_currencies"] == ["BRL"]

    empty = await client.get("/finance/months/2027-01", params={"contact_id": ana}, headers=headers)
    assert empty.json()["expense"] == {"total": "0.00", "count": 0, "by_category": {}}
    assert empty.json()["expense_change_pct"] is None


async def test_api_never_shows_or_touches_another_tenants_entries(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    entry = await _record(container, tenant["id"], ana, "77.77", note="segredo")
    _other, attacker_key = await _tenant(container)
    attacker = auth(attacker_key)
    url = f"/finance/entries/{entry.id}"
    calls = [
        await client.get(url, headers=attacker),
        await client.patch(url, json={"amount": "1.00"}, headers=attacker),
        await client.delete(url, headers=attacker),
        await client.get(
            "/finance/summary",
            params={"contact_id": ana, "from": "2026-01-01", "to": "2026-12-31"},
            headers=attacker,
        ),
        await client.get("/finance/months/2026-11", params={"contact_id": ana}, headers=attacker),
    ]
    assert [call.status_code for call in calls] == [404, 404, 404, 404, 404]
    listed = await client.get("/finance/entries", params={"contact_id": ana}, headers=attacker)
    assert listed.json() == {"items": [], "next_cursor": None}
    posted = await client.post("/finance/entries", json=_body(ana), headers=attacker)
    assert posted.status_code == 422
    for response in [*calls, listed, posted]:
        assert "77.77" not in response.text
        assert "segredo" not in response.text
    async with container.db.read() as session:
        kept = await finance.get(session, tenant_id=tenant["id"], entry_id=entry.id)
    assert kept is not None
    assert kept.amount == Decimal("77.77")
    assert await _count(container) == 1


async def test_api_permissions_read_only_keys_and_roles(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    entry = await _record(container, tenant["id"], ana, "10.00")
    async with container.db.transaction() as session:
        _k, reader = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="reader", scopes=["finance:read"], now=NOW
        )
        _k, other_scope = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="chat", scopes=["conversations:*"], now=NOW
        )
        _k, writer = await identity.create_api_key(
            session, tenant_id=tenant["id"], name="writer", scopes=["finance:*"], now=NOW
        )
    url = f"/finance/entries/{entry.id}"

    async def statuses(headers: dict[str, str]) -> list[int]:
        return [
            (await client.get("/finance/entries", headers=headers)).status_code,
            (await client.get(url, headers=headers)).status_code,
            (await client.post("/finance/entries", json=_body(ana), headers=headers)).status_code,
            (await client.patch(url, json={"note": "x"}, headers=headers)).status_code,
            (await client.delete(url, headers=headers)).status_code,
        ]

    assert await statuses(auth(reader)) == [200, 200, 403, 403, 403]
    assert await statuses(auth(other_scope)) == [403, 403, 403, 403, 403]
    operator = await sign_in(container, client, tenant["id"], "Olga Operadora", "operator")
    assert await statuses(operator.headers) == [200, 200, 403, 403, 403]
    member = await sign_in(container, client, tenant["id"], "Mário Membro", "member")
    assert await statuses(member.headers) == [403, 403, 403, 403, 403]
    assert await _count(container) == 1
    assert await statuses(auth(writer)) == [200, 200, 201, 200, 204]
    # The scopes can be granted to new keys.
    granted = await client.post(
        "/identity/api-keys",
        json={"name": "bot", "scopes": ["finance:read", "finance:write"]},
        headers=auth(tenant["key"]),
    )
    assert granted.status_code == 201, granted.text


# --- privacy ----------------------------------------------------------------------------------


async def test_export_and_erasure_take_only_that_contacts_entries(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    bruno = await _contact(container, tenant["id"], "+5511999990002")
    await _record(container, tenant["id"], ana, "0.10", note="farmácia", category="health")
    await _record(container, tenant["id"], ana, "2500.00", kind="income", category="salary")
    await _record(container, tenant["id"], bruno, "33.00", note="do Bruno")

    exported = await client.get(f"/identity/contacts/{ana}/export", headers=headers)
    assert exported.status_code == 200, exported.text
    entries = exported.json()["data"]["finance"]["entries"]
    assert [(e["amount"], e["kind"], e["note"]) for e in entries] == [
        ("0.10", "expense", "farmácia"),
        ("2500.00", "income", None),
    ]
    assert "do Bruno" not in exported.text

    erased = await client.post(f"/identity/contacts/{ana}/erasure", headers=headers)
    assert erased.status_code == 201, erased.text
    assert erased.json()["removed"]["finance"] == 2
    assert await _count(container, FinanceEntry.contact_id == ana) == 0
    assert await _count(container, FinanceEntry.contact_id == bruno) == 1


async def test_an_entry_keeps_its_description_in_the_api_and_the_export(
    container: Container, client: httpx.AsyncClient, tenant: dict[str, str]
) -> None:
    headers = auth(tenant["key"])
    ana = await _contact(container, tenant["id"], "+5511999990001")
    created = await client.post(
        "/finance/entries",
        json=_body(ana, category="restaurants", description="  ifood  "),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["description"] == "ifood"
    url = f"/finance/entries/{created.json()['id']}"
    changed = await client.patch(url, json={"description": "ifood jantar"}, headers=headers)
    assert changed.json()["description"] == "ifood jantar"
    too_long = await client.patch(url, json={"description": "x" * 201}, headers=headers)
    assert too_long.status_code == 422
    exported = await client.get(f"/identity/contacts/{ana}/export", headers=headers)
    [entry] = exported.json()["data"]["finance"]["entries"]
    assert entry["description"] == "ifood jantar"
    cleared = await client.patch(url, json={"description": None}, headers=headers)
    assert cleared.json()["description"] is None


async def test_find_entries_by_what_the_person_calls_them(
    container: Container, tenant: dict[str, str]
) -> None:
    ana = await _contact(container, tenant["id"], "+5511999990001")
    bruno = await _contact(container, tenant["id"], "+5511999990002")
    async with container.db.transaction() as session:
        for contact, amount, category, description in (
            (ana, "50.00", "groceries", "mercado"),
            (ana, "30.00", "transport", "uber"),
            (ana, "35.00", "restaurants", "ifood"),
            (ana, "60.00", "groceries", "feira"),
            (bruno, "30.00", "transport", "uber"),
        ):
            await finance.record(
                session,
                tenant_id=tenant["id"],
                contact_id=contact,
                kind="expense",
                amount=amount,
                category=category,
                description=description,
                now=NOW,
            )

        async def found(**criteria: object) -> list[str]:
            rows = await finance.find_entries(
                session,
                tenant_id=tenant["id"],
                contact_id=ana,
                **criteria,  # type: ignore[arg-type]
            )
            return [str(r.amount) for r in rows]

        assert await found(words=["uber"]) == ["30.00"]
        assert await found(words=["IFOOD"]) == ["35.00"]
        assert await found(categories=["groceries"]) == ["60.00", "50.00"]
        assert await found(categories=["groceries"], amount=Decimal("50.00")) == ["50.00"]
        assert await found(words=["aluguel"]) == []
        assert await found(day=NOW.date() - timedelta(days=3)) == []
