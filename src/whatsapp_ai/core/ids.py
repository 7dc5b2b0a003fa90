"""Time-sortable identifiers (ULID, 26 characters, Crockford base32)."""

from __future__ import annotations

import threading
from datetime import datetime

from ulid import ULID

_last = 0
_lock = threading.Lock()


def new_id() -> str:
    """A new ULID as text; in one process, each id sorts after every id made before it
    (within a millisecond the previous id plus one, as monotonic ULIDs do)."""
    global _last
    value = int(ULID())
    with _lock:
        value = max(value, _last + 1)
        _last = value
    return str(ULID.from_int(value))


def new_id_at(moment: datetime) -> str:
    """A new ULID whose time part is ``moment`` (used with an injected clock)."""
    return str(ULID.from_datetime(moment))


def id_time(value: str) -> datetime:
    """The creation time encoded in a ULID."""
    return ULID.from_str(value).datetime
