"""The sales agent's offline planner: it reads quantities and product words from a message;
the tools match those words against the catalog (the planner has no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.agents.offline_model import Plan
from whatsapp_ai.core import i18n
from whatsapp_ai.core.text import fold as plain
from whatsapp_ai.sales import service as sales

_NUMBERS = {
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6,
    "sete": 7, "oito": 8, "nove": 9, "dez": 10, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1,
    "another": 1,
}  # fmt: skip
_WORD = re.compile(r"\w+(?:[-']\w+)*")
_TIMES = re.compile(r"^(\d{1,3})x$")
# "diminui pra 1", "deixa só 2", "change it to 3", "make it 2": the quantity wanted now.
_SET_TO = re.compile(
    r"\b(?:pra|para|so|somente|apenas|to|only|just)\s+(\d{1,3}|"
    + "|".join(sorted(_NUMBERS, key=len, reverse=True))
    + r")\b"
)


@dataclass(frozen=True)
class _Request:
    quantity: int | None
    product: str


def _number(word: str, *, article: bool) -> int | None:
    """The quantity a word says ("2", "2x", "duas", "one"); "a"/"an" only when ``article``."""
    folded = plain(word)
    if (times := _TIMES.match(folded)) is not None:
        return int(times[1])
    if folded.isdigit() and len(folded) <= 3:
        return int(folded)
    if not article and folded in ("a", "an"):
        return None
    return _NUMBERS.get(folded)


def _filler(word: str) -> bool:
    pieces = re.findall(r"[a-z0-9]+", plain(word))
    return all(piece in sales.STOPWORDS for piece in pieces)


def _read(text: str, *, article: bool) -> _Request:
    """The quantity asked for (a number before the product words) and the product words."""
    words = _WORD.findall(text)
    quantity = None
    product: list[str] = []
    for index, word in enumerate(words):
        value = _number(word, article=article)
        # A bare number after the product, or alone at the end, is part of it ("tênis 42").
        size = word.isdigit() and (bool(product) or index + 1 == len(words))
        if value is not None and quantity is None and not product and not size:
            quantity = value
            continue
        if value is not None and not word.isdigit():
            continue  # number words never name a product
        if not _filler(word):
            product.append(word)
    return _Request(quantity, " ".join(product))


def _which(moment: Moment) -> Plan:
    return Plan(text=i18n.text(moment.language, "sales.which_product"))


def plan(intent: str, text: str, moment: Moment) -> Plan:
    """Tool calls for a sales message, read without a language model."""
    if intent == "sales.checkout":
        return Plan(calls=[("checkout", {})])
    if intent == "sales.order_view":
        return Plan(calls=[("view_order", {})])
    if intent == "sales.order_add":
        asked = _read(text, article=True)
        if not asked.product:
            return _which(moment)
        return Plan(
            calls=[("add_to_order", {"product": asked.product, "quantity": asked.quantity or 1})]
        )
    if intent == "sales.order_remove":
        return _plan_remove(text, moment)
    asked = _read(text, article=False)
    return Plan(calls=[("browse_catalog", {"query": asked.product[:200]})])


def _plan_remove(text: str, moment: Moment) -> Plan:
    folded = plain(text)
    target = _SET_TO.search(folded)
    if target is not None:
        wanted = _number(target[1], article=True)
        rest = _read(folded[: target.start()] + " " + folded[target.end() :], article=False)
        if wanted is not None and rest.product:
            wanted_now = {"product": rest.product, "quantity": wanted}
            return Plan(calls=[("set_order_quantity", wanted_now)])
    asked = _read(text, article=False)
    if not asked.product:
        return _which(moment)
    args: dict[str, object] = {"product": asked.product}
    if asked.quantity is not None:
        args["quantity"] = asked.quantity
    return Plan(calls=[("remove_from_order", args)])
