"""The finance agent's offline planner: tool calls read from the message with the extraction
library, without a language model."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.agents import say
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.finance import naming
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.ai.dialogue import ORDINAL_REF, ORDINALS, SAID_OF_THE_LAST, elliptical
from whatsapp_ai.ai.extract import (
    bare_number_amount,
    find_amounts,
    find_when,
    guess_category,
    guess_payment_method,
)
from whatsapp_ai.ai.extract._text import fold as fold_in_place
from whatsapp_ai.ai.router.statements import HOW_PAID
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold
from whatsapp_ai.core.vocabulary import Category

_SPENDING_WORDS = re.compile(r"\b(?:gast\w*|despesas?|spen[dt]\w*|expenses?|paguei|paid)\b")
_INCOME_WORDS = re.compile(
    r"\b(recebi|receb\w+|ganhei|ganho|entrou|entrada|entradas|salario|caiu|caiu na conta"
    r"|income|earn\w*|received|receive|got paid|came in|made|make)\b"
)
_QUESTION = re.compile(
    r"\?|\b(quant\w*|qnt\w*|qto|qtos|qual|quais|como|how|what|which|total|saldo|balance"
    r"|resumo|summary|mostra|show|lista|list)\b"
)
_BALANCE_WORDS = re.compile(
    r"\b(saldo|balance|quanto (eu )?tenho|how much do i have|sobrou|sobra|left over|have left)\b"
)
# "e no total?", "and overall?": the last question without its category.
_ALL_CATEGORIES = re.compile(r"\b(?:no total|total|tudo|no geral|geral|in total|overall|all)\b")


# Chat shorthand the date reader does not know ("quanto gastei hj?").
_SHORTHAND = {"hj": "hoje", "ontm": "ontem", "amnh": "amanhã", "tmrw": "tomorrow"}
_SHORT_WORD = re.compile(r"\b(" + "|".join(_SHORTHAND) + r")\b", re.IGNORECASE)


def _spelled(text: str) -> str:
    return _SHORT_WORD.sub(lambda m: _SHORTHAND[m[1].lower()], text)


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for a finance message, read without a language model."""
    text = _spelled(text)
    if intent == "finance.query" and not _QUESTION.search(fold(text)):
        # Not a question: a correction ("o mercado foi ontem na vdd") or a new entry
        # ("paguei o uber ontem"), told apart by their words.
        if naming.corrects(text):
            intent = "finance.edit_last"
        elif _SPENT.search(fold(text)) or _EARNED.search(fold(text)):
            intent = "finance.add_expense"
    if intent in ("finance.add_expense", "finance.add_income") and (
        naming.corrects(text) or _redates(text, moment)
    ):
        intent = "finance.edit_last"
    if intent in ("finance.add_expense", "finance.add_income"):
        return _plan_entry(intent, text, moment)
    if intent == "finance.delete_last":
        return _plan_delete(text, moment)
    if intent == "finance.edit_last":
        return _plan_edit(text, moment)
    if intent == "finance.summary":
        start, _end = _period(text, moment)
        return Plan(calls=[("month_summary", {"year": start.year, "month": start.month})])
    return _plan_query(text, moment)


# "parcelado em 3x", "in 3 installments": how it is paid, not another amount.
_INSTALMENTS = re.compile(
    r"\b(?:parcelad[oa]\s+)?(?:em\s+)?\d{1,2}\s*x\b|\bin\s+\d{1,2}\s+(?:installments|instalments)\b",
    re.IGNORECASE,
)


def _redates(text: str, moment: Moment) -> bool:
    """A day for an entry named as the subject, with no amount: "the salary came in on
    monday", "o mercado foi ontem" move that entry."""
    return (
        naming.subject_named(text)
        and not find_amounts(text, money_hint=True)
        and _day(text, moment) is not None
    )


def _plan_entry(intent: str, text: str, moment: Moment) -> Plan:
    text = _INSTALMENTS.sub(lambda m: " " * len(m[0]), text)
    amounts = find_amounts(text, default_currency=moment.currency, money_hint=True)
    if not amounts:
        bare = bare_number_amount(text, default_currency=moment.currency)
        amounts = [bare] if bare is not None else []
    if not amounts:
        return Plan(text=i18n.text(moment.language, "finance.ask_amount"))
    put = _PUT_IT.search(fold(text))
    if put is not None and len(amounts) > 1:
        # "foi 112 e pouco, põe 112": the amount to keep is the one said last.
        amounts = [a for a in amounts if a.span[0] >= put.start()][-1:] or amounts[-1:]
    income = _is_income(intent, text)
    whole_day = _day(text, moment)
    calls: list[tuple[str, dict[str, object]]] = []
    for index, amount in enumerate(amounts):
        # "30 de uber e 12 no café": each amount with the words up to the next one.
        start = 0 if index == 0 else amount.span[0]
        end = amounts[index + 1].span[0] if index + 1 < len(amounts) else len(text)
        segment = text[start:end] if len(amounts) > 1 else text
        # "almoço 28 e janta 45": the words may come before their amount, when none follow it.
        before = text[amounts[index - 1].span[1] if index else 0 : amount.span[0]]
        after = text[amount.span[1] : end]
        told_after = [w for w in re.findall(r"[^\W\d_]{3,}", fold(after)) if w not in _MONEY_NOUNS]
        category = guess_category(segment) or (
            guess_category(text)
            if len(amounts) == 1
            else (None if told_after else guess_category(before))
        )
        fallback = Category.SALARY if income and _salary(segment) else Category.OTHER
        args: dict[str, object] = {
            "amount": str(amount.value),
            "currency": amount.currency,
            "category": (category or fallback).value,
            "description": naming.description(segment) or naming.description(text),
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


_PUT_IT = re.compile(r"\b(?:poe|bota|coloca|deixa|arredonda pra|put|make it|call it|round it to)\b")
# Words that name money itself, never what it was for.
_MONEY_NOUNS = frozenset(
    {"reais", "real", "conto", "contos", "pila", "pilas", "mangos", "bucks", "dollars", "dolares"}
)
_SPENT = re.compile(r"\b(gastei|paguei|comprei|torrei|spent|paid|bought)\b")
_EARNED = re.compile(r"\b(recebi|ganhei|entrou|caiu|received|earned|got paid|came in)\b")


def _is_income(intent: str, text: str) -> bool:
    """Income or expense: the verb decides when it is clear, else the router's intent."""
    folded = fold(text)
    spent, earned = bool(_SPENT.search(folded)), bool(_EARNED.search(folded))
    if spent != earned:
        return earned
    if intent == "finance.add_income" and not earned:
        # "hj fui no dentista, 250 no pix": a place one pays at, with nothing said of earning.
        category = guess_category(text)
        return category is None or category.is_income or category == Category.OTHER
    return intent == "finance.add_income"


def _salary(text: str) -> bool:
    return bool(
        re.search(
            r"\b(?:salario|salary|paycheck|pagamento|got paid|me pagaram|caiu o pagamento"
            r"|pay ?day)\b",
            fold(text),
        )
    )


def _listed_pick(text: str, moment: Moment) -> str | None:
    """The id of the entry a position names in the list just shown ("o segundo foi 28")."""
    listed = moment.dialogue.get("slots", {}).get("listed")
    found = ORDINAL_REF.search(fold(text))
    if not isinstance(listed, list) or found is None:
        return None
    number = ORDINALS[found.group(0).split()[-1]]
    index = len(listed) - 1 if number == -1 else number - 1
    return str(listed[index]) if 0 <= index < len(listed) else None


def _plan_edit(text: str, moment: Moment) -> Plan:
    args: dict[str, object] = {}
    picked = _listed_pick(text, moment)
    if picked is not None:
        args["record"] = picked
    # "foi de uber", "foi no pix": what the last entry was, not which entry is meant.
    which = None if SAID_OF_THE_LAST.search(fold(text)) or picked else naming.named(text)
    new, old = naming.new_and_old(text)
    if new is None and old is None:
        # A change of a record: a bare number in it is its amount ("pera, foi 76 kkk").
        bare = find_amounts(text, default_currency=moment.currency, money_hint=True)
        new = bare[0].value if bare else None
    if new is not None:
        args["amount"] = str(new)
    if old is not None:
        args["which_amount"] = str(old)
    if which:
        args["which"] = which
    # A category named as the entry ("o do mercado foi 44") is not a new category for it,
    # nor one said to be wrong ("o de 95 não foi farmácia, foi roupa").
    rest = fold(text)
    for word in (which or "").split():
        rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest)
    rest = _NOT_THIS.sub(" ", rest)
    moved = _NEW_VALUE.search(fold(text))  # "o restaurante muda pra mercado"
    told = moved.group(1) if moved else rest
    category = (
        guess_category(told)
        or guess_category(rest)
        or (_category_named(told) if _RECATEGORISE.search(rest) or moved else None)
    )
    if category is not None:
        args["category"] = category.value
    method = guess_payment_method(text)
    if method is not None:
        args["payment_method"] = method.value
    said, replaced = _new_and_old_days(text, moment)
    if replaced is not None:
        args["which_day"] = replaced.isoformat()  # "foi anteontem, nao ontem"
    if said is not None and new is not None and replaced is None and which:
        args["which_day"] = said.isoformat()  # "o mercado de domingo foi 95": picks it
    elif said is not None:
        args["day"] = said.isoformat()
    return Plan(calls=[("edit_last_entry", args)])


_NOT_BEFORE = re.compile(r"\b(?:nao|not|instead of)\s*(?:(?:foi|era|was|on)\s+)?$")


def _new_and_old_days(text: str, moment: Moment) -> tuple[date | None, date | None]:
    """The day a correction sets, and the one it says was wrong ("anteontem, nao ontem")."""
    said: date | None = None
    replaced: date | None = None
    folded = fold_in_place(text)
    for found in find_when(text, now=_local_now(moment), tz=moment.timezone, prefer="past"):
        if found.kind not in ("day", "instant"):
            continue
        day = found.start.astimezone(ZoneInfo(moment.timezone)).date()
        if _NOT_BEFORE.search(folded[: found.span[0]]):
            replaced = replaced or day
        else:
            said = said or day
    return said, replaced


def _plan_delete(text: str, moment: Moment) -> Plan:
    args: dict[str, object] = {}
    picked = _listed_pick(text, moment)
    if picked is not None:
        return Plan(calls=[("delete_last_entry", {"record": picked})])
    several = _SEVERAL.search(fold(text))
    if several is not None:
        # "apaga os dois", "delete both": the last ones recorded
        count = _COUNTS.get(several.group(1) or several.group(2) or "", 0)
        count = count or int(several.group(1))
        return Plan(calls=[("delete_last_entry", {"latest": count})])
    parts = _BOTH.split(text)
    if len(parts) > 1 and all(naming.named(f"apaga {part}") for part in parts[1:]):
        # "tira o estacionamento e o cinema": each one named
        first = naming.named(parts[0])
        rest = [naming.named(f"apaga {part}") for part in parts[1:]]
        named = [w for w in (first, *rest) if w]
        return Plan(calls=[("delete_last_entry", {"which": w}) for w in named])
    which = naming.named(text)
    if which:
        args["which"] = which
    day = _day(text, moment)  # "apaga o de ontem"
    if day is not None:
        args["which_day"] = day.isoformat()
    # "apaga o mercado" → "Qual deles?" → "o de 55": the amount picks one.
    amounts = find_amounts(text, money_hint=True)
    if amounts:
        args["which_amount"] = str(amounts[0].value)
    return Plan(calls=[("delete_last_entry", args)])


# "apaga os dois", "apaga os 3 últimos", "delete both": the last ones recorded.
_COUNTS = {"dois": 2, "duas": 2, "ambos": 2, "ambas": 2, "both": 2, "tres": 3, "three": 3}
_SEVERAL = re.compile(
    r"\b(?:os|as|the|esses|essas|these|those)?\s*(dois|duas|tres|three|[2-5])\b"
    r"(?:\s+(?:ultim[oa]s|last|gastos|lancamentos|entries))?\s*$"
    r"|\b(ambos|ambas|both)\b"
)
# "o estacionamento e o cinema", "the parking and the movie": two entries named.
_BOTH = re.compile(r"\s+(?:e|and)\s+(?=(?:o|a|os|as|the)\s)", re.IGNORECASE)
_RECATEGORISE = re.compile(r"\b(categoria|category)\b")
# "não foi farmácia", "not groceries": what it was not.
_NOT_THIS = re.compile(
    r"\b(?:nao|not)\s+(?:foi|era|e|eh|was|is)?\s*(?:(?:n[oa]s?|de|d[oa]s?|com|em|on|in|for)\s+)?"
    r"[^\W\d_]+"
)
# "muda pra mercado", "change it to groceries", "coloca como lazer": the new value.
_NEW_VALUE = re.compile(
    r"\b(?:muda|mude|passa|troca|coloca|bota|poe|change|move|put|make)\b.*?"
    r"\b(?:pra|para|como|em|to|into|as|under)\s+(.+)$"
)
_CATEGORY_NAMES = {
    "transporte": Category.TRANSPORT, "transport": Category.TRANSPORT,
    "mercado": Category.GROCERIES, "groceries": Category.GROCERIES,
    "restaurante": Category.RESTAURANTS, "restaurantes": Category.RESTAURANTS,
    "restaurants": Category.RESTAURANTS, "comida": Category.RESTAURANTS,
    "food": Category.RESTAURANTS, "saude": Category.HEALTH, "health": Category.HEALTH,
    "educacao": Category.EDUCATION, "education": Category.EDUCATION,
    "lazer": Category.ENTERTAINMENT, "entertainment": Category.ENTERTAINMENT,
    "compras": Category.SHOPPING, "shopping": Category.SHOPPING, "contas": Category.BILLS,
    "bills": Category.BILLS, "casa": Category.HOUSING, "moradia": Category.HOUSING,
    "housing": Category.HOUSING,
}  # fmt: skip


def _category_named(text: str) -> Category | None:
    """A category the contact names itself ("com transporte", "on food")."""
    for word in re.findall(r"\w+", fold(text)):
        if word in _CATEGORY_NAMES:
            return _CATEGORY_NAMES[word]
    return None


def _plan_query(text: str, moment: Moment) -> Plan:
    folded = fold(text)
    if _BALANCE_WORDS.search(folded):
        said = _said_period(text, moment)
        if said is not None and said[0].day == 1:
            # "quanto sobrou esse mês?": that month's income less its spending.
            return Plan(calls=[("month_summary", {"year": said[0].year, "month": said[0].month})])
        return Plan(calls=[("finance_balance", {})])
    # "e com uber?" after a question: the same question, with what changed.
    before = _earlier_query(text, moment)
    period = _said_period(text, moment)
    if period is None and before.get("start") and before.get("end"):
        start, end = _shifted(
            folded, date.fromisoformat(before["start"]), date.fromisoformat(before["end"]), moment
        )
    else:
        start, end = period or _this_month(moment)
    kind = "income" if _INCOME_WORDS.search(folded) else before.get("kind") or "expense"
    if _SPENDING_WORDS.search(folded) and not _INCOME_WORDS.search(folded):
        kind = "expense"  # "e gastei quanto?" after a question about income
    args: dict[str, object] = {"kind": kind, "start": start.isoformat(), "end": end.isoformat()}
    if HOW_PAID.search(folded) and period is None:
        # "como eu paguei a farmácia?": the entries it names, of the last weeks
        args["start"] = (_local_now(moment).date() - timedelta(days=_HOW_PAID_DAYS)).isoformat()
    named = guess_category(text) or _category_named(text)
    own_words = _own_words(text, named)
    if own_words:
        args["words"] = own_words  # "e com uber?": the uber rides, not all transport
    if _LARGEST.search(folded):
        args.pop("words", None)
        args["largest"] = 3 if _LARGEST_MANY.search(folded) else 1
        return Plan(calls=[("list_entries", args)])  # "qual foi meu maior gasto?"
    if HOW_PAID.search(folded) and own_words:
        return Plan(calls=[("list_entries", args)])
    excluded = _EXCLUDING.search(folded)
    if named is not None and excluded is not None and _ALL_CATEGORIES.search(folded):
        pass  # "e contando tudo, não só mercado?": every category
    elif named is not None and excluded is not None:
        args["excluding"] = named.value  # "e tirando o salário?"
    elif named is not None:
        args["category"] = named.value
    elif before.get("category") and not _ALL_CATEGORIES.search(folded):
        args["category"] = before["category"]
    if _LIST_ASKED.search(folded) and not _HOW_MUCH.search(folded) and "excluding" not in args:
        return Plan(calls=[("list_entries", args)])  # "me mostra os gastos de hj"
    return Plan(calls=[("finance_report", args)])


# "qual foi meu maior gasto?", "my biggest expenses"
_LARGEST = re.compile(r"\b(?:maior|maiores|mais car[oa]s?|biggest|largest|most expensive)\b")
_LARGEST_MANY = re.compile(r"\b(?:maiores|mais car[oa]s|expenses|entries)\b")
# "como eu paguei a farmácia?", "how did I pay the rent?": each entry it names, with how.
_HOW_PAID_DAYS = 60


def _own_words(text: str, named: Category | None) -> list[str]:
    """The entries' own words a question names, when they are narrower than the category
    ("uber", "gasolina" of transport; not "mercado", the category's own name)."""
    if named is None or _category_named(text) is not None:
        return []
    names = {fold(say.category(named.value, lang)) for lang in ("pt", "en")}
    return [w for w in naming.asked_words(text) if w not in names]


# "me mostra os gastos de hj", "lista meus gastos", "quais foram meus gastos?": each entry.
_LIST_ASKED = re.compile(
    r"\b(?:mostra\w*|lista\w*|ver|veja|show|list|quais (?:foram )?(?:os )?(?:meus )?"
    r"(?:gastos|lancamentos|entradas|despesas)|what (?:were|are) my|which (?:expenses|entries))\b"
)
_HOW_MUCH = re.compile(r"\b(?:quanto|qnto|qto|total|soma|how much|sum)\b")


# "tirando o salário", "sem contar o mercado", "não só mercado", "except groceries".
_EXCLUDING = re.compile(
    r"\b(?:tirando|sem contar|sem o|sem a|fora o|fora a|fora|exceto|menos o|menos a|nao so"
    r"|nao apenas|alem d[oea]|except|excluding|not counting|besides|other than|not just"
    r"|apart from)\b"
)


_EARLIER = re.compile(
    r"\b(?:passad[ao]|anterior|previous|before that|last one|the one before|the day before"
    r"|dia antes|o dia anterior)\b"
)
_WHOLE_MONTH = re.compile(
    r"\b(?:mes (?:todo|inteiro)|todo o mes|whole month|all month|full month)\b"
)
_WHOLE_WEEK = re.compile(r"\b(?:semana (?:toda|inteira)|toda a semana|whole week|all week)\b")


def _shifted(folded: str, start: date, end: date, moment: Moment) -> tuple[date, date]:
    """The period a follow-up means relative to the last question's: the one before it ("e na
    passada?", "e no anterior?"), or the whole month or week around it ("e no mês todo?")."""
    today = _local_now(moment).date()
    if _WHOLE_MONTH.search(folded):
        first = start.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return first, min(last, today)
    if _WHOLE_WEEK.search(folded):
        monday = start - timedelta(days=start.weekday())
        return monday, min(monday + timedelta(days=6), today)
    if not _EARLIER.search(folded):
        return start, end
    if (start.day == 1 and (end + timedelta(days=1)).day == 1) or (
        start.day == 1 and start.month == today.month and start.year == today.year
    ):
        last = start - timedelta(days=1)  # a month: the month before
        return last.replace(day=1), last
    if start.weekday() == 0 and (end - start).days <= 6:
        monday = start - timedelta(days=7)  # a week: the week before
        return monday, monday + timedelta(days=6)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def _earlier_query(text: str, moment: Moment) -> dict[str, str]:
    """The slots of the question this one follows up, when it is an elliptical follow-up."""
    state = moment.dialogue
    if state.get("intent") != "finance.query" or not elliptical(text):
        return {}
    slots = state.get("slots") or {}
    return {k: str(v) for k, v in slots.items() if v is not None and isinstance(v, str | int)}


def _local_now(moment: Moment) -> datetime:
    return moment.now.astimezone(ZoneInfo(moment.timezone))


def _day(text: str, moment: Moment) -> date | None:
    """The local day a message speaks of (an expense "ontem"), if any; for a past week or
    month ("semana passada", "mês passado") the same day of it as today, within it."""
    zone = ZoneInfo(moment.timezone)
    today = _local_now(moment).date()
    for found in find_when(text, now=_local_now(moment), tz=moment.timezone, prefer="past"):
        if found.kind in ("day", "instant"):
            return found.start.astimezone(zone).date()
        if found.kind == "period" and found.end is not None:
            first = found.start.astimezone(zone).date()
            last = (found.end.astimezone(zone) - timedelta(microseconds=1)).date()
            if last >= today:
                continue  # "este mês", "esta semana": today will do
            back = today - timedelta(days=7) if (last - first).days < 7 else _month_back(today)
            return min(max(back, first), last)
    return None


def _month_back(day: date) -> date:
    """The same day a month before (the month's last when it has fewer days)."""
    first = day.replace(day=1) - timedelta(days=1)
    return first.replace(day=min(day.day, first.day))


def _period(text: str, moment: Moment) -> tuple[date, date]:
    """The local days (both included) a question is about; this month so far by default."""
    return _said_period(text, moment) or _this_month(moment)


def _this_month(moment: Moment) -> tuple[date, date]:
    today = _local_now(moment).date()
    return today.replace(day=1), today


def _said_period(text: str, moment: Moment) -> tuple[date, date] | None:
    """The local days (both included) the text names, if it names any."""
    today = _local_now(moment).date()
    for found in find_when(text, now=_local_now(moment), tz=moment.timezone, prefer="past"):
        start = found.start.astimezone(ZoneInfo(moment.timezone)).date()
        if found.end is None:
            return start, start
        end = (found.end.astimezone(ZoneInfo(moment.timezone)) - timedelta(microseconds=1)).date()
        return start, min(end, today) if start <= today else end
    return None
