"""Time-sortable identifiers (ULID, 26 characters, Crockford base32)."""

from __future__ import annotations

from datetime import datetime

from ulid import ULID


def new_id() -> str:
    """A new ULID as text; ids made later sort after ids made earlier (to the millisecond)."""
    return str(ULID())


def new_id_at(moment: datetime) -> str:
    """A new ULID whose time part is ``moment`` (used with an injected clock)."""
    return str(ULID.from_datetime(moment))


def id_time(value: str) -> datetime:
    """The creation time encoded in a ULID."""
    return ULID.from_str(value).datetime
