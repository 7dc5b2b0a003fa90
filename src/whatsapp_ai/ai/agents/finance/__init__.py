"""The finance agent: record expenses and income, fix or remove the last one, and answer
"how much" questions. Tools write through the finance service; the offline planner reads the
message with the extraction library."""

from whatsapp_ai.ai.agents.finance.args import (
    EditArgs,
    EntryArgs,
    MonthArgs,
    RemoveArgs,
    ReportArgs,
    Which,
)
from whatsapp_ai.ai.agents.finance.planner import plan
from whatsapp_ai.ai.agents.finance.tools import (
    AGENT,
    PROMPT,
    TOOLS,
    delete_last_entry,
    edit_last_entry,
    finance_balance,
    finance_report,
    month_summary,
    record_expense,
    record_income,
)

__all__ = [
    "AGENT",
    "PROMPT",
    "TOOLS",
    "EditArgs",
    "EntryArgs",
    "MonthArgs",
    "RemoveArgs",
    "ReportArgs",
    "Which",
    "delete_last_entry",
    "edit_last_entry",
    "finance_balance",
    "finance_report",
    "month_summary",
    "plan",
    "record_expense",
    "record_income",
]
