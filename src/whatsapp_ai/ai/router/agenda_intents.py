"""The agenda's change intents (cancel or move a reminder or meeting), kept apart from the
catalogue so it stays readable; `intents.INTENTS` ends with them."""

from __future__ import annotations

from typing import Any

AGENDA_INTENTS: tuple[dict[str, Any], ...] = (
    {
        "id": "crm.cancel",
        "agent": "crm",
        "description": "Cancel one of the contact's reminders or meetings.",
        "examples": (
            "cancela esse lembrete",
            "cancela o lembrete do dentista",
            "apaga o lembrete do aluguel",
            "desmarca a reuniao de sexta",
            "desmarca o dentista",
            "cancela a call",
            "nao precisa mais me lembrar disso",
            "cancel that reminder",
            "delete the insurance reminder",
            "cancel the friday meeting",
            "cancel my 3pm meeting",
        ),
        "keywords": (
            r"\b(?:cancela|cancelar|cancele|apaga|apague|exclui|deleta|remove)\b.*\b(?:lembrete|"
            r"reuniao|call|compromisso|consulta)\b",
            r"\b(?:desmarca|desmarcar|desmarque)\b",
            r"\b(?:cancel|delete|remove)\b.*\b(?:reminder|meeting|call|appointment)\b",
        ),
    },
    {
        "id": "crm.move",
        "agent": "crm",
        "description": "Move one of the contact's reminders or meetings to another day or time.",
        "examples": (
            "muda pra 18h",
            "muda pra 21h30",
            "passa o do dentista pra sexta",
            "passa pra sexta no mesmo horario",
            "o da racao muda pra sexta",
            "remarca a reuniao pra segunda",
            "adia o lembrete pra amanha",
            "change it to 5pm",
            "move my 3pm meeting to 4",
            "move it to monday, same time",
            "push the meeting to tomorrow",
        ),
        "keywords": (
            r"\b(?:muda|mude|passa|passe|remarca|remarcar|adia|adiar|transfere)\b.*\b(?:pra|para"
            r"|pro)\b",
            r"\b(?:move|change|push|reschedule|postpone)\b.*\b(?:to|until)\b",
        ),
    },
)
