"""The basic replies: greetings, thanks, help, and an honest "I didn't get that"."""

from __future__ import annotations

from whatsapp_ai.ai.language import conversation_language, preferred_language, words
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.core.i18n import text

MODEL_NAME = "offline-basic"

_GREETINGS = frozenset(["oi", "ola", "hi", "hello", "hey", "bom", "boa", "good"])
_THANKS = frozenset(["obrigado", "obrigada", "valeu", "thanks", "thank"])
_HELP = frozenset(["ajuda", "help", "menu"])


class OfflineReplyStep:
    """Answers greetings, thanks and help, and otherwise says plainly it did not understand."""

    async def reply(self, turn: TurnInput) -> Reply:
        """A short reply in the user's language."""
        previous = [item.body for item in turn.history if item.author == "user"]
        language = preferred_language(turn.contact_language) or conversation_language(
            turn.text, previous
        )
        said = set(words(turn.text))
        first_name = (turn.contact_name or "").split(" ")[0].strip()
        name = f", {first_name}" if first_name else ""
        tenant = turn.tenant_name
        if not said and turn.attachments:
            reply = text(language, "assistant.file_received", name=name)
        elif said & _HELP:
            reply = text(language, "assistant.help", tenant=tenant)
        elif said & _THANKS:
            reply = text(language, "assistant.thanks", name=name)
        elif said & _GREETINGS and len(said) <= 4:
            # The greeting goes on with what the assistant can do (the help without its opening).
            offer = text(language, "assistant.help", tenant=tenant).split(". ", 1)[1]
            reply = text(language, "assistant.greet", name=name, tenant=tenant) + " " + offer
        else:
            reply = text(language, "assistant.not_understood", name=name)
        return Reply(text=reply, model=MODEL_NAME, language=language)
