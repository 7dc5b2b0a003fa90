"""Finance REST API (tenant-scoped): a contact's expenses and income, their sums over a
period, and month by month summaries. The tenant always comes from the credential."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.errors import InvalidInputError
from whatsapp_ai.core.http import Principal, require, runtime
from whatsapp_ai.core.money import DEFAULT_CURRENCY, Currency
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Cursor, Limit, Page
from whatsapp_ai.core.vocabulary import Category, Kind
from whatsapp_ai.finance import service
from whatsapp_ai.finance.errors import ContactNotFoundError, EntryNotFoundError
from whatsapp_ai.finance.schemas import (
    CategoryChangeOut,
    CurrencyTotalsOut,
    EntryIn,
    EntryOut,
    EntryPatch,
    KindTotalsOut,
    MonthOut,
    PreviousMonthOut,
    SummaryOut,
)

router = APIRouter(prefix="/finance", tags=["finance"])
Reader = Annotated[Principal, Depends(require("finance:read"))]
Writer = Annotated[Principal, Depends(require("finance:write"))]
ContactId = Annotated[str, Query(min_length=1, max_length=64)]


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise InvalidInputError("must not be before 'from'", field="to")


@router.get("/entries", response_model=Page[EntryOut])
async def list_entries(
    request: Request,
    caller: Reader,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: Kind | None = None,
    category: Category | None = None,
    start: Annotated[date | None, Query(alias="from", description="Local date, included.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Local date, included.")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[EntryOut]:
    """The tenant's entries in the order recorded, with cursor paging; filter by contact,
    kind, category and the contact's local dates."""
    _check_period(start, end)
    async with runtime(request).db.read() as session:
        found = await service.list_entries(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            kind=kind,
            category=category,
            start=start,
            end=end,
            cursor=cursor,
            limit=limit,
        )
    return Page[EntryOut].of(found, EntryOut.model_validate)


@router.post("/entries", response_model=EntryOut, status_code=status.HTTP_201_CREATED)
async def create_entry(
    request: Request, response: Response, caller: Writer, body: EntryIn
) -> EntryOut:
    """Record an expense or income of one of the tenant's contacts. Sent again with the same
    ``source_key``, it records nothing new and answers 200 with the stored entry."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        entry, created = await service.record(
            session,
            tenant_id=caller.tenant_id,
            contact_id=body.contact_id,
            kind=body.kind,
            amount=body.amount,
            category=body.category,
            currency=body.currency,
            occurred_at=body.occurred_at,
            payment_method=body.payment_method,
            note=body.note,
            description=body.description,
            source_key=body.source_key,
            now=rt.clock.now(),
        )
        out = EntryOut.model_validate(entry)
    if not created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("/entries/{entry_id}", response_model=EntryOut)
async def get_entry(request: Request, caller: Reader, entry_id: str) -> EntryOut:
    """One entry."""
    async with runtime(request).db.read() as session:
        found = await service.get(session, tenant_id=caller.tenant_id, entry_id=entry_id)
        if found is None:
            raise EntryNotFoundError()
        return EntryOut.model_validate(found)


@router.patch("/entries/{entry_id}", response_model=EntryOut)
async def update_entry(
    request: Request, caller: Writer, entry_id: str, body: EntryPatch
) -> EntryOut:
    """Change some of an entry's values; a new ``occurred_at`` moves it to that local day."""
    rt = runtime(request)
    async with rt.db.transaction() as session:
        entry = await service.update(
            session,
            tenant_id=caller.tenant_id,
            entry_id=entry_id,
            changes=body.model_dump(exclude_unset=True),
            now=rt.clock.now(),
        )
        if entry is None:
            raise EntryNotFoundError()
        return EntryOut.model_validate(entry)


@router.delete("/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_entry(request: Request, caller: Writer, entry_id: str) -> Response:
    """Remove an entry."""
    async with runtime(request).db.transaction() as session:
        removed = await service.delete(session, tenant_id=caller.tenant_id, entry_id=entry_id)
        if removed is None:
            raise EntryNotFoundError()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/summary", response_model=SummaryOut)
async def summary(
    request: Request,
    caller: Reader,
    contact_id: ContactId,
    start: Annotated[date, Query(alias="from", description="Local date, included.")],
    end: Annotated[date, Query(alias="to", description="Local date, included.")],
) -> SummaryOut:
    """A contact's expenses and income over a period of their local dates, by kind and
    category per currency, and their all-time balance per currency."""
    _check_period(start, end)
    async with runtime(request).db.read() as session:
        await _contact(session, caller, contact_id)
        found = await service.totals(
            session, tenant_id=caller.tenant_id, contact_id=contact_id, start=start, end=end
        )
        balances = await service.balances(
            session, tenant_id=caller.tenant_id, contact_id=contact_id
        )
    return SummaryOut(
        contact_id=contact_id,
        start=start,
        end=end,
        count=found.count,
        currencies=[
            CurrencyTotalsOut(
                currency=totals.currency,
                expense=KindTotalsOut.model_validate(totals.expense),
                income=KindTotalsOut.model_validate(totals.income),
                net=totals.net,
                count=totals.count,
            )
            for totals in found.currencies.values()
        ],
        balances=balances,
    )


@router.get("/months/{year}-{month}", response_model=MonthOut)
async def month_summary(
    request: Request,
    caller: Reader,
    year: Annotated[int, Path(ge=1, le=9999)],
    month: Annotated[int, Path(ge=1, le=12)],
    contact_id: ContactId,
    currency: Annotated[Currency, Query()] = DEFAULT_CURRENCY,
) -> MonthOut:
    """A contact's month (their local dates) in one currency: totals by category, the top
    expense categories and the comparison with the month before."""
    async with runtime(request).db.read() as session:
        await _contact(session, caller, contact_id)
        found = await service.month_summary(
            session,
            tenant_id=caller.tenant_id,
            contact_id=contact_id,
            year=year,
            month=month,
            currency=currency,
        )
    return MonthOut(
        contact_id=contact_id,
        month=f"{found.year:04d}-{found.month:02d}",
        currency=found.currency,
        start=found.start,
        end=found.end,
        expense=KindTotalsOut.model_validate(found.expense),
        income=KindTotalsOut.model_validate(found.income),
        net=found.net,
        previous=PreviousMonthOut(
            month=f"{found.previous_start.year:04d}-{found.previous_start.month:02d}",
            start=found.previous_start,
            end=found.previous_end,
            expense=KindTotalsOut.model_validate(found.previous_expense),
            income=KindTotalsOut.model_validate(found.previous_income),
            net=found.previous_net,
        ),
        expense_change=found.expense_change,
        expense_change_pct=found.expense_change_pct,
        income_change=found.income_change,
        top_categories=[CategoryChangeOut.model_validate(c) for c in found.top_categories],
        categories=[CategoryChangeOut.model_validate(c) for c in found.categories],
        other_currencies=found.other_currencies,
    )


async def _contact(session: AsyncSession, caller: Principal, contact_id: str) -> None:
    if not await service.is_contact(session, tenant_id=caller.tenant_id, contact_id=contact_id):
        raise ContactNotFoundError()
