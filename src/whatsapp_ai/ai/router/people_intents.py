"""The people-notes intents (asking about a person the contact knows, setting their details),
kept apart from the catalogue so it stays readable; `intents.INTENTS` ends with them."""

from __future__ import annotations

from typing import Any

PEOPLE_INTENTS: tuple[dict[str, Any], ...] = (
    {
        "id": "crm.person_info",
        "agent": "crm",
        "description": "Ask what the contact keeps about a person they know: details, notes, talks",
        "examples": (
            "o que eu sei sobre o Paulo?",
            "qual o telefone da Marina?",
            "qual o email do Sergio?",
            "quando é o aniversario da Tati?",
            "quando foi a ultima vez que falei com a Renata?",
            "o que a Bianca me contou?",
            "qm é o Vitor msm?",
            "do que a Lara gosta?",
            "qual o numero do eletricista?",
            "onde fica o escritorio da Lu?",
            "what do I know about Paul?",
            "what's Lucy's phone number?",
            "when did I last talk to Ryan?",
            "anything about Nina I should remember?",
            "where does Tom work?",
        ),
        "keywords": (
            r"\b(?:o que|oq|o q|que) (?:eu |vc |voce )?(?:sei|sabe|anotei|anotou|tenho|tem)"
            r" (?:anotado )?(?:sobre|d[oa])\b|\b(?:me )?fala (?:tudo )?(?:sobre|d[oa]) [a-z]",
            r"\b(?:qual|quais|me passa|manda)\b.*\b(?:telefone|numero|celular|cel|e-?mail|zap)"
            r" d[oa] (?!(?:pedido|loja|empresa)\b)",
            r"\b(?:ultima vez|quando (?:eu )?(?:falei|conversei|vi))\b",
            r"\bwhat do i know about\b|\bwhen did i last\b|\blast time i\b|"
            r"\bwhat(?:'s| is) \w+'s (?:phone|number|e-?mail|birthday)\b",
        ),
    },
    {
        "id": "crm.person_update",
        "agent": "crm",
        "description": "Set a detail of a person the contact knows: phone, e-mail, birthday.",
        "examples": (
            "o telefone da Maria é 11 98888-7777",
            "o email do Pedro é pedro@gmail.com",
            "aniversario da Bia é 3 de maio",
            "o numero novo do Carlos é 21 99999-1111",
            "o niver da Lu é dia 12 de junho",
            "Maria's number is 555 1234",
            "John's birthday is May 3",
            "Paul's new email is paul@mail.com",
        ),
        "keywords": (
            r"\b(?:telefone|numero|celular|e-?mail|aniversario|niver)\b (?:novo )?d[oa] \w+ "
            r"(?:e|eh|agora e)\b",
            r"\b\w+'s (?:new )?(?:phone|number|e-?mail|birthday) is\b",
        ),
    },
)

# More ways to save a person and to note something about them (added to those intents).
CONTACT_EXAMPLES = (
    "salva o Caio, mecanico, ele é de confiança",
    "salva a Lara, nutricionista, atende no centro",
    "save Ben, my dentist, his office is downtown",
)
INTERACTION_EXAMPLES = (
    "anota que a Paula gosta de chocolate e torce pro Flamengo",
    "anota sobre o Caio: a esposa dele se chama Rita",
)
CONTACT_KEYWORDS = (
    r"\b(?:salva|salvar|adiciona|cadastra|guarda|anota|novo|add|save|create|"
    r"new)\b.*\b(?:contato|contatos|telefone|numero|contact|contacts|number)\b",
    r"^(?:salva|salvar|cadastra|save) (?:o |a )?\w+, ",
)
INTERACTION_KEYWORDS = (
    r"\b(?:almocei|jantei|falei|conversei|liguei|encontrei|tomei (?:um )?cafe|reuni|"
    r"visitei)\b.*\b(?:ele|ela|eles|elas)\b",
    r"\breuniao com\b.*\b(?:foi|ele|ela)\b|\banota que\b",
    r"\b(?:had (?:lunch|dinner|coffee)|talked|spoke|met|called|visited)\b.*\b(?:he|she|"
    r"they)\b|\bnote that\b",
    r"\banota (?:sobre|que)\b|\bme (?:emprestou|contou|pediu|disse)\b|"
    r"^(?:called|met|visited) \w+ (?:on|at|yesterday|today)\b",
)
