"""One way to page every list: keyset paging behind an opaque cursor, and one ``Page[T]``.

A list is ordered by one or more columns ending with a unique one (the id). The cursor holds
the sort values of the last row shown, so the next page starts right after it even when rows
are added meanwhile. One row more than asked is read to know whether another page exists: the
last page has ``next_cursor`` null and a full page is never followed by an empty one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from whatsapp_ai.core.errors import InvalidInputError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_MAX = 500

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description="How many items at most on this page.")
]
Cursor = Annotated[
    str | None,
    Query(max_length=CURSOR_MAX, description="The next_cursor of the previous page."),
]


class Page[T](BaseModel):
    """One page of a list; pass ``next_cursor`` as ``cursor`` to get the next one."""

    items: list[T]
    next_cursor: str | None = Field(description="Null on the last page.")

    @classmethod
    def of[R](cls, found: Slice[R], item: Callable[[R], T]) -> Page[T]:
        """The response page of rows a service found, each turned into its schema."""
        return cls(items=[item(row) for row in found.items], next_cursor=found.next_cursor)


@dataclass(frozen=True)
class Slice[R]:
    """What a service found for one page: the rows and the cursor of the next page."""

    items: list[R]
    next_cursor: str | None


@dataclass(frozen=True)
class Order:
    """One sort key of a list; the last key of an ordering must be unique (the id)."""

    column: InstrumentedAttribute[Any]
    descending: bool = False

    @property
    def name(self) -> str:
        """The attribute name, recorded in the cursor to refuse another list's cursor."""
        return str(self.column.key)

    def clause(self) -> ColumnElement[Any]:
        """The ORDER BY term."""
        return self.column.desc() if self.descending else self.column.asc()


def by(*columns: InstrumentedAttribute[Any], descending: bool = False) -> tuple[Order, ...]:
    """An ordering where every key goes the same way ("newest first": ``descending=True``)."""
    return tuple(Order(column, descending) for column in columns)


async def paginate[R](
    session: AsyncSession,
    stmt: Select[R],
    *,
    order: Sequence[Order],
    cursor: str | None,
    limit: int,
) -> Slice[R]:
    """One page of ``stmt`` in ``order``, starting after ``cursor`` (None: the first page)."""
    if not order:
        raise ValueError("paging needs an ordering that ends with a unique column")
    if cursor is not None:
        stmt = stmt.where(_after(order, decode(cursor, order)))
    stmt = stmt.order_by(*(key.clause() for key in order)).limit(limit + 1)
    rows = cast(list[R], list((await session.scalars(stmt)).all()))
    if len(rows) <= limit:
        return Slice(items=rows, next_cursor=None)
    last = rows[limit - 1]
    return Slice(
        items=rows[:limit], next_cursor=encode([getattr(last, key.name) for key in order], order)
    )


def slice_list[R](rows: Sequence[R], *, limit: int, position: Callable[[R], str]) -> Slice[R]:
    """Page an in-memory list already in order (``position`` gives each row's unique key)."""
    items = list(rows[: limit + 1])
    if len(items) <= limit:
        return Slice(items=items, next_cursor=None)
    return Slice(items=items[:limit], next_cursor=_pack(["list", position(items[limit - 1])]))


def list_position(cursor: str) -> str:
    """The row key a ``slice_list`` cursor points after."""
    raw = _unpack(cursor)
    if len(raw) != 2 or raw[0] != "list" or not isinstance(raw[1], str):
        raise _invalid()
    return raw[1]


def encode(values: Sequence[Any], order: Sequence[Order]) -> str:
    """The opaque cursor for a row with these sort values."""
    return _pack([[key.name for key in order], [_dump(value) for value in values]])


def decode(cursor: str, order: Sequence[Order]) -> list[Any]:
    """The sort values a cursor holds; InvalidInputError when it is not one of this list's."""
    raw = _unpack(cursor)
    if len(raw) != 2 or raw[0] != [key.name for key in order] or len(raw[1]) != len(order):
        raise _invalid()
    values = [_load(value) for value in raw[1]]
    for key, value in zip(order, values, strict=True):
        if not isinstance(value, _python_type(key)):
            raise _invalid()
    return values


def _python_type(key: Order) -> type:
    column_type = key.column.type
    # A TypeDecorator reports ``object``; the type it decorates knows better.
    for candidate in (column_type, getattr(column_type, "impl_instance", None)):
        try:
            kind: type = candidate.python_type  # type: ignore[union-attr]
        except (AttributeError, NotImplementedError):
            continue
        if kind is not object:
            return kind
    return object


def _after(order: Sequence[Order], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in ``order`` (a row-value comparison, spelled out)."""
    terms = []
    for index, key in enumerate(order):
        equal = [order[i].column == values[i] for i in range(index)]
        beyond = key.column < values[index] if key.descending else key.column > values[index]
        terms.append(and_(*equal, beyond))
    return or_(*terms)


def _dump(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _load(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, text),) = value.items()
        try:
            if kind == "dt":
                return datetime.fromisoformat(text)
            if kind == "d":
                return date.fromisoformat(text)
            if kind == "dec":
                return Decimal(text)
        except (TypeError, ValueError, ArithmeticError):
            raise _invalid() from None
        raise _invalid()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _invalid()


def _pack(raw: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()


def _unpack(cursor: str) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid() from None
    if not isinstance(raw, list):
        raise _invalid()
    return raw


def _invalid() -> InvalidInputError:
    return InvalidInputError(
        "invalid cursor: pass the next_cursor of the previous page", field="cursor"
    )
