"""The finance agent: record expenses and income, fix or remove the last one, and answer
"how much" questions. Tools write through the finance service; the offline planner reads the
message with the extraction library."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.ai.agents import say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.agents.tools import Tool, ToolError, ToolOutcome, ToolRuntime
from whatsapp_ai.ai.extract import (
    bare_number_amount,
    find_amounts,
    find_when,
    guess_category,
    guess_payment_method,
)
from whatsapp_ai.ai.text import plain
from whatsapp_ai.finance import service as finance

AGENT = "finance"
CategoryName = Literal[
    "groceries", "restaurants", "transport", "housing", "health", "education",
    "entertainment", "shopping", "bills", "salary", "freelance", "transfer", "other",
]  # fmt: skip
MethodName = Literal["pix", "credit_card", "debit_card", "cash", "boleto", "transfer"]
PROMPT = (
    "You keep the contact's personal finances: record expenses and income with the tools, "
    "fix or delete the last entry when asked, and answer totals by period and category. "
    "Never invent amounts: ask when the value is missing."
)


class EntryArgs(BaseModel):
    """An expense or income to record."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: str = Field(default="BRL", pattern=r"^[A-Z]{3}$")
    category: CategoryName = "other"
    description: str | None = Field(default=None, max_length=200)
    day: date | None = Field(default=None, description="The local day; empty for today.")
    payment_method: MethodName | None = None


class EditArgs(BaseModel):
    """Changes to the last entry."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    category: CategoryName | None = None
    day: date | None = None
    payment_method: MethodName | None = None
    description: str | None = Field(default=None, max_length=200)


class NoArgs(BaseModel):
    """No arguments."""

    model_config = ConfigDict(extra="forbid")


class ReportArgs(BaseModel):
    """A total over local days (both included)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["expense", "income"] = "expense"
    start: date
    end: date
    category: CategoryName | None = None


class MonthArgs(BaseModel):
    """A month to summarise."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)


class _Entry(Protocol):
    kind: str
    amount: Decimal
    currency: str
    category: str
    occurred_on: date


def _lang(runtime: ToolRuntime) -> str:
    return runtime.ctx.language


def _today(runtime: ToolRuntime) -> date:
    return runtime.ctx.local_now.date()


def _at(runtime: ToolRuntime, day: date | None) -> datetime:
    """When an entry happened: now for today, else noon of that local day."""
    if day is None or day == _today(runtime):
        return runtime.ctx.now
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(runtime.ctx.timezone))


def _describe(entry: _Entry, runtime: ToolRuntime) -> str:
    lang = _lang(runtime)
    amount = say.money(entry.amount, entry.currency, lang)
    where = say.category(entry.category, lang)
    when = say.day(entry.occurred_on, lang, _today(runtime))
    if entry.kind == "income":
        return (
            f"entrada de {amount} ({where}), {when}"
            if lang == "pt"
            else (f"{amount} received ({where}), {when}")
        )
    return (
        f"gasto de {amount} em {where}, {when}"
        if lang == "pt"
        else (f"{amount} spent on {where}, {when}")
    )


async def _record(runtime: ToolRuntime, args: EntryArgs, kind: str) -> ToolOutcome:
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
            note=args.description,
            source_key=runtime.key(f"finance.{kind}"),
            now=ctx.now,
        )
        said = _describe(entry, runtime)
        data = {"entry_id": entry.id, "amount": str(entry.amount), "kind": kind}
    return ToolOutcome(
        say=("Anotei: " if _lang(runtime) == "pt" else "Noted: ") + said + ".", data=data
    )


async def record_expense(runtime: ToolRuntime, args: EntryArgs) -> ToolOutcome:
    return await _record(runtime, args, "expense")


async def record_income(runtime: ToolRuntime, args: EntryArgs) -> ToolOutcome:
    return await _record(runtime, args, "income")


async def edit_last_entry(runtime: ToolRuntime, args: EditArgs) -> ToolOutcome:
    ctx = runtime.ctx
    changes: dict[str, object] = {}
    if args.amount is not None:
        changes["amount"] = args.amount
    if args.category is not None:
        changes["category"] = args.category
    if args.payment_method is not None:
        changes["payment_method"] = args.payment_method
    if args.description is not None:
        changes["note"] = args.description
    if args.day is not None:
        changes["occurred_at"] = _at(runtime, args.day)
    if not changes:
        raise ToolError(
            "O que devo mudar no último lançamento?"
            if _lang(runtime) == "pt"
            else "What should I change in the last entry?"
        )
    async with runtime.db.transaction() as session:
        entry = await finance.edit_last(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            changes=changes,
            now=ctx.now,
        )
        if entry is None:
            raise ToolError(_nothing(runtime))
        said = _describe(entry, runtime)
    lead = "Corrigi o último lançamento: " if _lang(runtime) == "pt" else "Fixed the last entry: "
    return ToolOutcome(say=lead + said + ".", data={"entry_id": entry.id})


async def delete_last_entry(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    del args
    ctx = runtime.ctx
    async with runtime.db.transaction() as session:
        entry = await finance.delete_last(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id
        )
        if entry is None:
            raise ToolError(_nothing(runtime))
        said = _describe(entry, runtime)
    lead = "Apaguei o último lançamento: " if _lang(runtime) == "pt" else "Deleted the last entry: "
    return ToolOutcome(say=lead + said + ".", data={"entry_id": entry.id})


def _nothing(runtime: ToolRuntime) -> str:
    if _lang(runtime) == "pt":
        return "Não encontrei nenhum lançamento seu ainda."
    return "I couldn't find any entry of yours yet."


async def finance_report(runtime: ToolRuntime, args: ReportArgs) -> ToolOutcome:
    ctx, lang = runtime.ctx, _lang(runtime)
    if args.end < args.start:
        raise ToolError(
            "O período termina antes de começar."
            if lang == "pt"
            else "The period ends before it starts."
        )
    async with runtime.db.read() as session:
        totals = await finance.totals(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            start=args.start,
            end=args.end,
            kind=finance.Kind(args.kind),
        )
    when = say.period(args.start, args.end, lang, _today(runtime))
    parts = []
    for currency, found in sorted(totals.currencies.items()):
        kind_totals = found.income if args.kind == "income" else found.expense
        if args.category:
            amount = kind_totals.by_category.get(args.category, Decimal(0))
            parts.append(say.money(amount, currency, lang))
            continue
        top = sorted(kind_totals.by_category.items(), key=lambda item: -item[1])[:3]
        detail = "; ".join(
            f"{say.category(c, lang)} {say.money(v, currency, lang)}" for c, v in top
        )
        parts.append(
            f"{say.money(kind_totals.total, currency, lang)} ({detail})"
            if detail
            else say.money(kind_totals.total, currency, lang)
        )
    verb = {"expense": ("você gastou", "you spent"), "income": ("você recebeu", "you received")}[
        args.kind
    ]
    subject = verb[0] if lang == "pt" else verb[1]
    if args.category:
        with_ = (" com " if lang == "pt" else " on ") + say.category(args.category, lang)
    else:
        with_ = ""
    if not parts:
        nothing = "nada registrado" if lang == "pt" else "nothing recorded"
        text = f"{when.capitalize()}: {nothing}{with_}."
    else:
        text = f"{when[0].upper() + when[1:]} {subject} {' + '.join(parts)}{with_}."
    return ToolOutcome(say=text, data={"start": str(args.start), "end": str(args.end)})


async def finance_balance(runtime: ToolRuntime, args: NoArgs) -> ToolOutcome:
    del args
    ctx, lang = runtime.ctx, _lang(runtime)
    async with runtime.db.read() as session:
        balances = await finance.balances(
            session, tenant_id=ctx.tenant_id, contact_id=ctx.contact_id
        )
    if not balances:
        return ToolOutcome(say=_nothing(runtime), data={})
    shown = " | ".join(
        say.money(value, currency, lang) for currency, value in sorted(balances.items())
    )
    text = (
        f"Seu saldo: {shown} (entradas menos gastos que você registrou aqui)."
        if lang == "pt"
        else f"Your balance: {shown} (income minus expenses you recorded here)."
    )
    return ToolOutcome(say=text, data={c: str(v) for c, v in balances.items()})


async def month_summary(runtime: ToolRuntime, args: MonthArgs) -> ToolOutcome:
    ctx, lang = runtime.ctx, _lang(runtime)
    async with runtime.db.read() as session:
        summary = await finance.month_summary(
            session,
            tenant_id=ctx.tenant_id,
            contact_id=ctx.contact_id,
            year=args.year,
            month=args.month,
        )
    cur = summary.currency
    title = say.month(args.year, args.month, lang)
    spent = say.money(summary.expense.total, cur, lang)
    got = say.money(summary.income.total, cur, lang)
    net = say.money(summary.net, cur, lang)
    change = summary.expense_change_pct
    trend = ""
    if change is not None:
        trend = f" ({change:+.0f}% vs. {'mês anterior' if lang == 'pt' else 'previous month'})"
    top = "; ".join(
        f"{say.category(c.category, lang)} {say.money(c.amount, cur, lang)}"
        for c in summary.top_categories
    )
    if lang == "pt":
        text = f"Resumo de {title}: gastos {spent}{trend}, entradas {got}, saldo do mês {net}."
        text += f" Maiores gastos: {top}." if top else ""
    else:
        text = f"{title} summary: spent {spent}{trend}, received {got}, net {net}."
        text += f" Top spending: {top}." if top else ""
    return ToolOutcome(say=text, data={"year": args.year, "month": args.month})


TOOLS = [
    Tool("record_expense", AGENT, "Record money the contact spent.", EntryArgs, record_expense),
    Tool("record_income", AGENT, "Record money the contact received.", EntryArgs, record_income),
    Tool("edit_last_entry", AGENT, "Change the contact's last entry.", EditArgs, edit_last_entry),
    Tool("delete_last_entry", AGENT, "Delete the contact's last entry.", NoArgs, delete_last_entry),
    Tool(
        "finance_report",
        AGENT,
        "Total spent or received over local days (start and end included), optionally for one "
        "category, with the largest categories.",
        ReportArgs,
        finance_report,
    ),
    Tool("finance_balance", AGENT, "Income minus expenses, all time.", NoArgs, finance_balance),
    Tool(
        "month_summary", AGENT, "A month's spending and income summary.", MonthArgs, month_summary
    ),
]

# --- the offline planner for this agent ------------------------------------------------------

_INCOME_WORDS = re.compile(
    r"\b(recebi|receb\w+|ganhei|ganho|entrou|entrada|entradas|salario"
    r"|income|earn\w*|received|got paid)\b"
)
_BALANCE_WORDS = re.compile(r"\b(saldo|balance|quanto (eu )?tenho|how much do i have)\b")


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for a finance message, read without a language model."""
    if intent in ("finance.add_expense", "finance.add_income"):
        return _plan_entry(intent, text, moment)
    if intent == "finance.delete_last":
        return Plan(calls=[("delete_last_entry", {})])
    if intent == "finance.edit_last":
        return _plan_edit(text, moment)
    if intent == "finance.summary":
        start, _end = _period(text, moment)
        return Plan(calls=[("month_summary", {"year": start.year, "month": start.month})])
    return _plan_query(text, moment)


def _plan_entry(intent: str, text: str, moment: Moment) -> Plan:
    amounts = find_amounts(text, money_hint=True)
    if not amounts:
        bare = bare_number_amount(text)
        amounts = [bare] if bare is not None else []
    if not amounts:
        return Plan(text="Qual foi o valor?" if moment.language == "pt" else "What was the amount?")
    income = _is_income(intent, text)
    whole_day = _day(text, moment)
    calls: list[tuple[str, dict[str, object]]] = []
    for index, amount in enumerate(amounts):
        # "30 de uber e 12 no café": each amount with the words up to the next one.
        start = 0 if index == 0 else amount.span[0]
        end = amounts[index + 1].span[0] if index + 1 < len(amounts) else len(text)
        segment = text[start:end] if len(amounts) > 1 else text
        category = guess_category(segment) or (guess_category(text) if len(amounts) == 1 else None)
        fallback = "salary" if income and _salary(segment) else "other"
        args: dict[str, object] = {
            "amount": str(amount.value),
            "currency": amount.currency,
            "category": category.value if category else fallback,
            "description": segment.strip(" ,.;e")[:200] or text.strip()[:200],
        }
        day = _day(segment, moment) if len(amounts) > 1 else whole_day
        day = day or whole_day
        if day is not None:
            args["day"] = day.isoformat()
        method = guess_payment_method(segment) or guess_payment_method(text)
        if method is not None:
            args["payment_method"] = method.value
        calls.append(("record_income" if income else "record_expense", args))
    return Plan(calls=calls)


_SPENT = re.compile(r"\b(gastei|paguei|comprei|torrei|spent|paid|bought)\b")
_EARNED = re.compile(r"\b(recebi|ganhei|entrou|caiu|received|earned|got paid|came in)\b")


def _is_income(intent: str, text: str) -> bool:
    """Income or expense: the verb decides when it is clear, else the router's intent."""
    folded = plain(text)
    spent, earned = bool(_SPENT.search(folded)), bool(_EARNED.search(folded))
    if spent != earned:
        return earned
    return intent == "finance.add_income"


def _salary(text: str) -> bool:
    return bool(re.search(r"\b(salario|salary|paycheck|pagamento)\b", plain(text)))


def _plan_edit(text: str, moment: Moment) -> Plan:
    args: dict[str, object] = {}
    amounts = find_amounts(text, money_hint=True)
    if amounts:
        args["amount"] = str(amounts[0].value)
    else:
        bare = bare_number_amount(text)
        if bare is not None:
            args["amount"] = str(bare.value)
    category = guess_category(text)
    if category is not None:
        args["category"] = category.value
    method = guess_payment_method(text)
    if method is not None:
        args["payment_method"] = method.value
    day = _day(text, moment)
    if day is not None:
        args["day"] = day.isoformat()
    return Plan(calls=[("edit_last_entry", args)])


_CATEGORY_NAMES = {
    "transporte": "transport", "transport": "transport", "mercado": "groceries",
    "groceries": "groceries", "restaurante": "restaurants", "restaurantes": "restaurants",
    "restaurants": "restaurants", "comida": "restaurants", "food": "restaurants",
    "saude": "health", "health": "health", "educacao": "education", "education": "education",
    "lazer": "entertainment", "entertainment": "entertainment", "compras": "shopping",
    "shopping": "shopping", "contas": "bills", "bills": "bills", "casa": "housing",
    "moradia": "housing", "housing": "housing",
}  # fmt: skip


def _category_named(text: str) -> str | None:
    """A category the contact names itself ("com transporte", "on food")."""
    for word in re.findall(r"\w+", plain(text)):
        if word in _CATEGORY_NAMES:
            return _CATEGORY_NAMES[word]
    return None


def _plan_query(text: str, moment: Moment) -> Plan:
    folded = plain(text)
    if _BALANCE_WORDS.search(folded):
        return Plan(calls=[("finance_balance", {})])
    start, end = _period(text, moment)
    args: dict[str, object] = {
        "kind": "income" if _INCOME_WORDS.search(folded) else "expense",
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
    category = guess_category(text)
    named = category.value if category is not None else _category_named(text)
    if named is not None:
        args["category"] = named
    return Plan(calls=[("finance_report", args)])


def _local_now(moment: Moment) -> datetime:
    return moment.now.astimezone(ZoneInfo(moment.timezone))


def _day(text: str, moment: Moment) -> date | None:
    """The local day a message speaks of (an expense "ontem"), if any."""
    for found in find_when(text, now=_local_now(moment), tz=moment.timezone, prefer="past"):
        if found.kind in ("day", "instant"):
            return found.start.astimezone(ZoneInfo(moment.timezone)).date()
    return None


def _period(text: str, moment: Moment) -> tuple[date, date]:
    """The local days (both included) a question is about; this month so far by default."""
    today = _local_now(moment).date()
    for found in find_when(text, now=_local_now(moment), tz=moment.timezone, prefer="past"):
        start = found.start.astimezone(ZoneInfo(moment.timezone)).date()
        if found.end is None:
            return start, start
        end = (found.end.astimezone(ZoneInfo(moment.timezone)) - timedelta(microseconds=1)).date()
        return start, min(end, today) if start <= today else end
    return today.replace(day=1), today
