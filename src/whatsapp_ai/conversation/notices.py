"""What the contact is told when a conversation changes hands (the ``conversation`` texts)."""

from __future__ import annotations

from whatsapp_ai.core import i18n

# A conversation whose language is not known yet is told in Portuguese, as it is answered.
DEFAULT_LANGUAGE = "pt"


def notice(kind: str, language: str | None, **values: str) -> str:
    """The text of a lifecycle notice in the contact's language (Portuguese by default)."""
    return i18n.text(language or DEFAULT_LANGUAGE, f"conversation.{kind}", **values)


def took_over(language: str | None, operator_name: str | None) -> str:
    """ "<name> from our team has taken over", with the operator's first name when known."""
    first = (operator_name or "").strip().split(" ")[0]
    if not first:
        return i18n.text(language or DEFAULT_LANGUAGE, "conversation.human_took_over_unnamed")
    return i18n.text(language or DEFAULT_LANGUAGE, "conversation.human_took_over", name=first)
