"""Personal CRM service: each contact's people, interactions, reminders and meetings, the
scheduler's delivery of due reminders, and the contact's export and erasure.

The caller owns the transaction. Writes that an assistant turn makes take a ``source_key``
(``f"{inbound_message_id}:{n}"``): a turn retried after a crash gets back what it created the
first time instead of creating it twice. Other packages use the CRM through this module.
"""

from __future__ import annotations

from whatsapp_ai.relationships.export import erase_contact, export_contact
from whatsapp_ai.relationships.interactions import (
    add_interaction,
    delete_interaction,
    latest_interaction,
    list_interactions,
    revise_interaction,
)
from whatsapp_ai.relationships.meetings import (
    Upcoming,
    add_meeting,
    cancel_meeting,
    complete_meeting,
    delete_meeting,
    get_meeting,
    list_meetings,
    upcoming,
    update_meeting,
)
from whatsapp_ai.relationships.names import match_people
from whatsapp_ai.relationships.people import (
    add_person,
    delete_person,
    find_or_create_person,
    find_people,
    get_person,
    list_people,
    update_person,
)
from whatsapp_ai.relationships.records import ensure_contact
from whatsapp_ai.relationships.reminders import (
    add_reminder,
    cancel_reminder,
    claim_due,
    complete_reminder,
    delete_reminder,
    due_reminders,
    edit_reminder,
    get_reminder,
    list_reminders,
    mark_sent,
    reschedule_reminder,
)

__all__ = [
    "Upcoming",
    "add_interaction",
    "add_meeting",
    "add_person",
    "add_reminder",
    "cancel_meeting",
    "cancel_reminder",
    "claim_due",
    "complete_meeting",
    "complete_reminder",
    "delete_interaction",
    "delete_meeting",
    "delete_person",
    "delete_reminder",
    "due_reminders",
    "edit_reminder",
    "ensure_contact",
    "erase_contact",
    "export_contact",
    "find_or_create_person",
    "find_people",
    "get_meeting",
    "get_person",
    "get_reminder",
    "latest_interaction",
    "list_interactions",
    "list_meetings",
    "list_people",
    "list_reminders",
    "mark_sent",
    "match_people",
    "reschedule_reminder",
    "revise_interaction",
    "upcoming",
    "update_meeting",
    "update_person",
]
