"""Personal CRM tables: a contact's people, interactions, reminders and meetings."""

from __future__ import annotations
