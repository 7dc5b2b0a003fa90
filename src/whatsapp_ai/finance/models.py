"""Finance tables: a contact's expenses and income, kept per tenant."""

from __future__ import annotations
