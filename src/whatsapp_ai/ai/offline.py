"""Offline reply step: no network, deterministic, honest about what it can do."""

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
            "Sou o assistente de {tenant}, rodando no modo offline. Por enquanto eu recebo e "
            "guardo suas mensagens nesta conversa; ainda não executo ações como registrar "
            "gastos ou agendar lembretes."
        ),
        "ack": (
            "Recebi sua mensagem{name}. Estou no modo offline e ainda não consigo agir sobre "
            'pedidos; ela fica registrada nesta conversa. Escreva "ajuda" para saber mais.'
        ),
        "file": "Recebi seu arquivo{name}. Ele fica guardado nesta conversa para a equipe.",
    },
    "en": {
        "greet": "Hello{name}! This is {tenant}'s assistant.",
        "thanks": "You're welcome{name}! Write any time.",
        "help": (
            "I'm {tenant}'s assistant, running in offline mode. For now I receive and keep your "
            "messages in this conversation; I can't yet take actions such as recording expenses "
            "or scheduling reminders."
        ),
        "ack": (
            "I got your message{name}. I'm in offline mode and can't act on requests yet; it is "
            'kept in this conversation. Write "help" to learn more.'
        ),
        "file": "I got your file{name}. It is kept in this conversation for the team.",
    },
}


class OfflineReplyStep:
    """Answers greetings, thanks and help, and otherwise says plainly that it cannot act yet."""

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
