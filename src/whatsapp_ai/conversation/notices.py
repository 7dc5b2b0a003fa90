"""What the contact is told when a conversation changes hands (fixed texts, PT and EN)."""

from __future__ import annotations

_TEXTS = {
    "handoff_requested": {
        "pt": "Certo, vou chamar uma pessoa da nossa equipe. Assim que alguém assumir, aviso "
        "por aqui.",
        "en": "Sure, I'm calling someone from our team. I'll let you know here as soon as "
        "someone takes over.",
    },
    "handoff_topic": {
        "pt": "Esse assunto é tratado pela nossa equipe. Vou chamar uma pessoa; assim que alguém "
        "assumir, aviso por aqui.",
        "en": "Our team handles this topic. I'm calling someone; I'll let you know here as soon "
        "as someone takes over.",
    },
    "handoff_assistant": {
        "pt": "Não estou conseguindo te ajudar com isso. Vou chamar uma pessoa da nossa equipe; "
        "assim que alguém assumir, aviso por aqui.",
        "en": "I'm not managing to help you with this. I'm calling someone from our team; I'll "
        "let you know here as soon as someone takes over.",
    },
    "handoff_operator": {
        "pt": "Uma pessoa da nossa equipe vai continuar esta conversa. Assim que ela assumir, "
        "aviso por aqui.",
        "en": "Someone from our team will continue this conversation. I'll let you know here "
        "as soon as they take over.",
    },
    "human_took_over": {
        "pt": "{name} da nossa equipe assumiu a conversa e vai te responder por aqui.",
        "en": "{name} from our team has taken over and will answer you here.",
    },
    "human_took_over_unnamed": {
        "pt": "Uma pessoa da nossa equipe assumiu a conversa e vai te responder por aqui.",
        "en": "Someone from our team has taken over and will answer you here.",
    },
    "assistant_back": {
        "pt": "O atendimento com a equipe terminou e eu, o assistente virtual, estou de volta. "
        "Em que posso ajudar?",
        "en": "The conversation with our team has ended and I, the virtual assistant, am back. "
        "How can I help?",
    },
    "wait_timeout_resume": {
        "pt": "Desculpe, ninguém da equipe conseguiu atender agora. Enquanto isso eu, o "
        "assistente virtual, continuo por aqui; você pode pedir um atendente de novo mais tarde.",
        "en": "Sorry, nobody from our team could answer right now. Meanwhile I, the virtual "
        "assistant, am still here; you can ask for a person again later.",
    },
    "wait_timeout_keep": {
        "pt": "Nossa equipe ainda não conseguiu atender, mas sua conversa continua na fila. "
        "Assim que alguém estiver livre, responde por aqui.",
        "en": "Our team hasn't been able to answer yet, but your conversation is still in the "
        "queue. As soon as someone is free, they'll answer here.",
    },
    "farewell": {
        "pt": "Por nada! Se precisar de algo, é só mandar mensagem. Até mais!",
        "en": "You're welcome! If you need anything, just write. Bye!",
    },
}


def notice(kind: str, language: str | None, **values: str) -> str:
    """The text of a lifecycle notice in the contact's language (Portuguese by default)."""
    texts = _TEXTS[kind]
    return texts.get(language or "pt", texts["pt"]).format(**values)


def took_over(language: str | None, operator_name: str | None) -> str:
    """ "<name> from our team has taken over", with the operator's first name when known."""
    first = (operator_name or "").strip().split(" ")[0]
    if not first:
        return notice("human_took_over_unnamed", language)
    return notice("human_took_over", language, name=first)
