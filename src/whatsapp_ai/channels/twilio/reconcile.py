"""Finding a message Twilio accepted although its answer never reached us (a lost response).

A create call that timed out may or may not have created the message. Before sending that part
again, the messages to the same address created since the attempt are listed and matched by
their text, so a lost answer costs one lookup, never a second message to the contact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# Twilio's clock and ours may differ a little; a message created this much before the attempt
# still counts as its outcome.
CLOCK_SKEW = timedelta(minutes=2)
LOOKUP_LIMIT = 50


def _matches(created: Any, *, body: str, template: bool) -> bool:
    text = str(getattr(created, "body", "") or "")
    # A template's text is Twilio's rendering around our variable, so ours is inside it.
    return body in text if template else text == body


async def find_sent(
    client: Any,
    *,
    to: str,
    from_: str | None,
    body: str,
    template: bool,
    attempted_at: datetime,
    known_sids: set[str],
) -> Any | None:
    """The message an earlier attempt created, if Twilio has one; None when it has none."""
    filters: dict[str, Any] = {"to": to, "limit": LOOKUP_LIMIT, "page_size": LOOKUP_LIMIT}
    if from_:
        filters["from_"] = from_
    since = attempted_at - CLOCK_SKEW
    for created in await client.messages.list_async(**filters):
        if created.sid in known_sids or str(created.direction or "") != "outbound-api":
            continue
        when = created.date_created
        if when is not None and when < since:
            continue
        if _matches(created, body=body, template=template):
            return created
    return None
