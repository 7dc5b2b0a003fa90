"""The basic replies: greetings, thanks, help, and an honest "I didn't get that"."""

from __future__ import annotations

from whatsapp_ai.ai.language import conversation_language, preferred_language, words
from whatsapp_ai.ai.service import Reply, TurnInput

MODEL_NAME = "offline-basic"

_GREETINGS = frozenset(["oi", "ola", "hi", "hello", "hey", "bom", "boa", "good"])
_THANKS = frozenset(["obrigado", "obrigada", "valeu", "thanks", "thank"])
_HELP = frozenset(["ajuda", "help", "menu"])


_TEXTS = {
    "pt": {
        "greet": "Olá{name}! Aqui é o assistente de {tenant}.",
        "thanks": "Por nada{name}! Se precisar, é só escrever.",
        "help": (
            'Sou o assistente de {tenant}. Posso anotar gastos e entradas ("gastei 50 no '
            'mercado"), dizer quanto você gastou ("quanto gastei este mês?"), criar lembretes '
            '("me lembra de ligar pro João amanhã às 15h") e marcar compromissos. Se preferir, '
            "é só pedir para falar com um atendente."
        ),
        "ack": (
            'Não entendi bem o que você precisa{name}. Escreva "ajuda" para ver o que eu '
            "faço, ou peça para falar com um atendente."
        ),
        "file": "Recebi seu arquivo{name}. Ele fica guardado nesta conversa para a equipe.",
    },
    "en": {
        "greet": "Hello{name}! This is {tenant}'s assistant.",
        "thanks": "You're welcome{name}! Write any time.",
        "help": (
            "I'm {tenant}'s assistant. I can record expenses and income (\"spent 50 on "
            'groceries"), tell you how much you spent ("how much did I spend this month?"), '
            'set reminders ("remind me to call John tomorrow at 3pm") and schedule meetings. '
            "You can also ask to talk to a person."
        ),
        "ack": (
            'I didn\'t quite get what you need{name}. Write "help" to see what I do, or ask '
            "to talk to a person."
        ),
        "file": "I got your file{name}. It is kept in this conversation for the team.",
    },
}


class OfflineReplyStep:
    """Answers greetings, thanks and help, and otherwise says plainly it did not understand."""

    async def reply(self, turn: TurnInput) -> Reply:
        """A short reply in the user's language."""
        previous = [item.body for item in turn.history if item.author == "user"]
        language = preferred_language(turn.contact_language) or conversation_language(
            turn.text, previous
        )
        said = set(words(turn.text))
        texts = _TEXTS[language]
        first_name = (turn.contact_name or "").split(" ")[0].strip()
        name = f", {first_name}" if first_name else ""
        if not said and turn.attachments:
            key = "file"
        elif said & _HELP:
            key = "help"
        elif said & _THANKS:
            key = "thanks"
        elif said & _GREETINGS and len(said) <= 4:
            key = "greet"
        else:
            key = "ack"
        text = texts[key].format(name=name, tenant=turn.tenant_name)
        if key == "greet":
            text += " " + texts["help"].format(tenant=turn.tenant_name).split(". ", 1)[1]
        return Reply(text=text, model=MODEL_NAME, language=language)
