"""Finance service: record a contact's expenses and income, correct them, and sum them up.

Money is ``Decimal`` everywhere (never float). Days and months are the contact's own: each
entry keeps the local date it happened on, and every period is a range of those dates. The
caller owns the transaction. Other packages use finance through this module.
"""

from __future__ import annotations

from whatsapp_ai.finance.entries import (
    delete,
    delete_last,
    edit_last,
    get,
    is_contact,
    last_entry,
    list_entries,
    record,
    update,
)
from whatsapp_ai.finance.errors import (
    ContactNotFoundError,
    EntryNotFoundError,
    FinanceError,
    InvalidEntryError,
    UnknownContactError,
)
from whatsapp_ai.finance.export import erase_contact, export_contact
from whatsapp_ai.finance.lookup import find_entries
from whatsapp_ai.finance.periods import DEFAULT_TIMEZONE, local_day, month_range, zone_of
from whatsapp_ai.finance.totals import (
    CategoryChange,
    CurrencyTotals,
    KindTotals,
    Summary,
    Totals,
    balance,
    balances,
    month_summary,
    percent,
    totals,
)
from whatsapp_ai.finance.values import (
    EDITABLE,
    MAX_AMOUNT,
    NOTE_MAX,
    SOURCE_KEY_MAX,
    currency_code,
    money,
)

__all__ = [
    "DEFAULT_TIMEZONE",
    "EDITABLE",
    "MAX_AMOUNT",
    "NOTE_MAX",
    "SOURCE_KEY_MAX",
    "CategoryChange",
    "ContactNotFoundError",
    "CurrencyTotals",
    "EntryNotFoundError",
    "FinanceError",
    "InvalidEntryError",
    "KindTotals",
    "Summary",
    "Totals",
    "UnknownContactError",
    "balance",
    "balances",
    "currency_code",
    "delete",
    "delete_last",
    "edit_last",
    "erase_contact",
    "export_contact",
    "find_entries",
    "get",
    "is_contact",
    "last_entry",
    "list_entries",
    "local_day",
    "money",
    "month_range",
    "month_summary",
    "percent",
    "record",
    "totals",
    "update",
    "zone_of",
]
