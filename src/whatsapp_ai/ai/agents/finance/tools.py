"""The finance tools: each opens its own transaction on the finance service and says what it
did in the contact's language."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.agents.context import RunContext
from whatsapp_ai.ai.agents.finance import naming, replies
from whatsapp_ai.ai.agents.finance.args import (
    EditArgs,
    EntryArgs,
    MonthArgs,
    RemoveArgs,
    ReportArgs,
    Which,
)
from whatsapp_ai.ai.agents.tools import NoArgs, Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.extract import guess_category
from whatsapp_ai.core.i18n import text
from whatsapp_ai.core.paging import MAX_LIMIT
from whatsapp_ai.core.text import fold
from whatsapp_ai.core.vocabulary import Kind
from whatsapp_ai.finance import service as finance

AGENT = "finance"
# How many entries a list shows in one WhatsApp message.
LISTED = 15
PROMPT = (
    "You keep the contact's personal finances: record expenses and income with the tools, "
    "fix or delete an entry when asked (the one the contact names by its description, "
    "category, day or amount, else the last one), and answer totals by period and category. "
    "Never invent amounts: ask when the value is missing. Keep the contact's own word for "
    "each entry as its description ('ifood', 'aluguel')."
)


def _today(runtime: ToolRuntime) -> date:
    return runtime.ctx.local_now.date()


def _at(runtime: ToolRuntime, day: date | None) -> datetime:
    """When an entry happened: now for today, else noon of that local day."""
    if day is None or day == _today(runtime):
        return runtime.ctx.now
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(runtime.ctx.timezone))


async def _record(runtime: ToolRuntime, args: EntryArgs, kind: Kind) -> ToolOutcome:
    ctx = runtime.ctx
    async with runtime.db.transaction() as session:
        entry, _ = await finance.record(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            kind=kind,
            amount=args.amount,
            currency=args.currency,
            category=args.category,
            occurred_at=_at(runtime, args.day),
            payment_method=args.payment_method,
            description=args.description,
            source_key=runtime.key(f"finance.{kind}"),
            now=ctx.now,
        )
        said = replies.recorded(entry, ctx.language, _today(runtime))
        data = {"entry_id": entry.id, "amount": str(entry.amount), "kind": kind.value}
    return ToolOutcome(say=said, data=data)


async def record_expense(runtime: ToolRuntime, args: EntryArgs) -> ToolOutcome:
    """Record money the contact spent."""
    return await _record(runtime, args, Kind.EXPENSE)


async def record_income(runtime: ToolRuntime, args: EntryArgs) -> ToolOutcome:
    """Record money the contact received."""
    return await _record(runtime, args, Kind.INCOME)


async def _chosen(session: Any, runtime: ToolRuntime, which: Which) -> Any:
    """The entry the contact means: the one named, else the last; asks when several fit."""
    ctx = runtime.ctx
    if which.record is not None:
        # "apaga o segundo": an entry of the list just shown, the contact's own only.
        picked = await finance.get(session, tenant_id=ctx.tenant_id, entry_id=which.record)
        if picked is None or picked.contact_id != ctx.contact_id:
            raise ToolError(replies.nothing(ctx.language))
        return picked
    if not which.names_one():
        entry = await finance.last_entry(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id
        )
        if entry is None:
            raise ToolError(replies.nothing(ctx.language))
        return entry
    words = [w for w in fold(which.which or "").split() if len(w) >= 3]
    categories = [which.which_category] if which.which_category else []
    named = guess_category(which.which or "")
    if named is not None:
        categories.append(named)
    found = await finance.find_entries(
        session,
        tenant_id=ctx.tenant_id,
        contact_id=ctx.contact_id,
        words=words,
        categories=categories,
        amount=which.which_amount,
        day=which.which_day,
    )
    if not found:
        raise ToolError(replies.not_found(which.which or "", ctx.language))
    if len(found) > 1:
        raise ToolError(replies.which(found, ctx.language, _today(runtime)))
    return found[0]


async def edit_last_entry(runtime: ToolRuntime, args: EditArgs) -> ToolOutcome:
    """Change one of the contact's entries: the one named, else the last."""
    ctx = runtime.ctx
    changes: dict[str, object] = {}
    if args.amount is not None:
        changes["amount"] = args.amount
    if args.category is not None:
        changes["category"] = args.category
    if args.payment_method is not None:
        changes["payment_method"] = args.payment_method
    if args.description is not None:
        changes["description"] = args.description
    if args.day is not None:
        changes["occurred_at"] = _at(runtime, args.day)
    if not changes:
        raise ToolError(text(ctx.language, "finance.what_to_change"))
    async with runtime.db.transaction() as session:
        chosen = await _chosen(session, runtime, args)
        entry = await finance.update(
            session, tenant_id=ctx.tenant_id, entry_id=chosen.id, changes=changes, now=ctx.now
        )
        if entry is None:
            raise ToolError(replies.nothing(ctx.language))
        said = replies.edited(entry, ctx.language, _today(runtime), named=args.names_one())
    return ToolOutcome(say=said, data={"entry_id": entry.id})


async def delete_last_entry(runtime: ToolRuntime, args: RemoveArgs) -> ToolOutcome:
    """Delete one of the contact's entries: the one named, else the last (or the last few)."""
    ctx = runtime.ctx
    if args.latest:
        return await _delete_latest(runtime, args.latest)
    async with runtime.db.transaction() as session:
        chosen = await _chosen(session, runtime, args)
        entry = await finance.delete(session, tenant_id=ctx.tenant_id, entry_id=chosen.id)
        if entry is None:
            raise ToolError(replies.nothing(ctx.language))
        said = replies.deleted(entry, ctx.language, _today(runtime), named=args.names_one())
    return ToolOutcome(say=said, data={"entry_id": entry.id})


def _period_checked(runtime: ToolRuntime, args: ReportArgs) -> RunContext:
    """The run's context, once the period asked for runs forwards."""
    if args.end < args.start:
        raise ToolError(text(runtime.ctx.language, "finance.period_backwards"))
    return runtime.ctx


async def _delete_latest(runtime: ToolRuntime, count: int) -> ToolOutcome:
    """Delete the contact's last ``count`` entries, newest first."""
    ctx = runtime.ctx
    said: list[str] = []
    ids: list[str] = []
    async with runtime.db.transaction() as session:
        for _ in range(count):
            entry = await finance.last_entry(
                session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id
            )
            if entry is None:
                break
            await finance.delete(session, tenant_id=ctx.tenant_id, entry_id=entry.id)
            said.append(replies.deleted(entry, ctx.language, _today(runtime), named=False))
            ids.append(entry.id)
    if not said:
        raise ToolError(replies.nothing(ctx.language))
    return ToolOutcome(say="\n".join(said), data={"deleted": ids})


async def _period_entries(runtime: ToolRuntime, args: ReportArgs) -> list[Any]:
    """The contact's entries of the period (kind, category) whose own words are ``words``
    (all of the period's when none are given), in the order recorded."""
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        page = await finance.list_entries(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            kind=args.kind,
            category=args.category if not args.words else None,
            start=args.start,
            end=args.end,
            limit=MAX_LIMIT,
        )
    entries = list(page.items)
    if args.words:
        entries = [e for e in entries if naming.described_by(e.description, args.words)]
    return entries


async def finance_report(runtime: ToolRuntime, args: ReportArgs) -> ToolOutcome:
    """Total spent or received over local days."""
    ctx = _period_checked(runtime, args)
    if args.words:
        # "quanto gastei com uber?": the entries it names, when there are any
        named = await _period_entries(runtime, args)
        if named:
            said = replies.named_total(
                named,
                kind=args.kind,
                what=" ".join(args.words),
                start=args.start,
                end=args.end,
                language=ctx.language,
                today=_today(runtime),
            )
            return ToolOutcome(say=said, data={"start": str(args.start), "end": str(args.end)})
    async with runtime.db.read() as session:
        totals = await finance.totals(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            start=args.start,
            end=args.end,
            kind=args.kind,
        )
    said = replies.report(
        totals,
        kind=args.kind,
        category=args.category,
        start=args.start,
        end=args.end,
        language=ctx.language,
        today=_today(runtime),
        excluding=args.excluding,
    )
    return ToolOutcome(say=said, data={"start": str(args.start), "end": str(args.end)})


async def list_entries(runtime: ToolRuntime, args: ReportArgs) -> ToolOutcome:
    """The contact's entries over local days, one per line and numbered (up to LISTED): the
    ones their own words name, or the largest."""
    ctx = _period_checked(runtime, args)
    found = await _period_entries(runtime, args)
    if args.largest:
        entries = sorted(found, key=lambda e: (-e.amount, e.id))[: args.largest]
        said = replies.largest(
            entries,
            kind=args.kind,
            start=args.start,
            end=args.end,
            language=ctx.language,
            today=_today(runtime),
        )
        return ToolOutcome(say=said, data={"listed": [e.id for e in entries]})
    entries = sorted(found, key=lambda e: (e.occurred_on, e.id))[-LISTED:]
    said = replies.listed(
        entries,
        kind=args.kind,
        start=args.start,
        end=args.end,
        language=ctx.language,
        today=_today(runtime),
    )
    return ToolOutcome(say=said, data={"listed": [e.id for e in entries]})


async def finance_balance(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    """Income minus expenses, all time."""
    del args
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        balances = await finance.balances(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id
        )
    said = replies.balance(balances, ctx.language)
    return ToolOutcome(say=said, data={c: str(v) for c, v in balances.items()})


async def month_summary(runtime: ToolRuntime, args: MonthArgs) -> ToolOutcome:
    """A month's spending and income summary."""
    ctx = runtime.ctx
    async with runtime.db.read() as session:
        summary = await finance.month_summary(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            year=args.year,
            month=args.month,
        )
    return ToolOutcome(
        say=replies.month(summary, ctx.language), data={"year": args.year, "month": args.month}
    )


TOOLS = [
    Tool("record_expense", AGENT, "Record money the contact spent.", EntryArgs, record_expense),
    Tool("record_income", AGENT, "Record money the contact received.", EntryArgs, record_income),
    Tool(
        "edit_last_entry",
        AGENT,
        "Change one of the contact's entries: the one named by which/which_category/"
        "which_amount/which_day, else the last one.",
        EditArgs,
        edit_last_entry,
    ),
    Tool(
        "delete_last_entry",
        AGENT,
        "Delete one of the contact's entries: the one named by which/which_category/"
        "which_amount/which_day, else the last one.",
        RemoveArgs,
        delete_last_entry,
    ),
    Tool(
        "finance_report",
        AGENT,
        "Total spent or received over local days (start and end included), optionally for one "
        "category, with the largest categories.",
        ReportArgs,
        finance_report,
    ),
    Tool(
        "list_entries",
        AGENT,
        "The contact's entries over local days, one per line and numbered, optionally of one "
        "category ('o segundo' then picks one).",
        ReportArgs,
        list_entries,
    ),
    Tool("finance_balance", AGENT, "Income minus expenses, all time.", NoArgs, finance_balance),
    Tool(
        "month_summary", AGENT, "A month's spending and income summary.", MonthArgs, month_summary
    ),
]
