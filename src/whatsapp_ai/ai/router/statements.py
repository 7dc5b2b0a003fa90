"""Statements the encoder may miss and a rule reads well: money spent or received, and what
happened with a person.

People note spending in every shape ("torrei duzentos pila em roupa", "uber 25", "order #55102
from doordash was 34.75", "vc anota ai: 35 de uber"). Whatever the words around it, a message
that names an amount of money, or a bare number beside a spending category, and asks nothing is
a record to keep: an expense, or income when it says money came in. The rule speaks only when
the router found nothing, or took the statement for a question about spending.

A statement about a named person that notes something ("anota q a Priscila é vegetariana"),
tells a past talk or meeting ("falei com a Tati dia 11/02", "met Hannah for coffee") or a debt
("o Fabio me deve 200", "I lent Tom 50") is a note about them, never a new appointment or an
expense: no money moved, and it happened already.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime

from whatsapp_ai.ai.extract import (
    find_amounts,
    find_person_names,
    find_when,
    guess_category,
    mentions_money,
)
from whatsapp_ai.ai.extract.reminders import TRIGGER, find_offset, find_repeat
from whatsapp_ai.ai.extract.subjects import TELL_ABOUT, statement_subject
from whatsapp_ai.ai.router.router import IntentScore
from whatsapp_ai.core.text import fold
from whatsapp_ai.core.vocabulary import Category

FINANCE = "finance"
_QUESTION = re.compile(
    r"\?|\b(?:quanto|qnto|qto|quantos|quantas|quais|qual|quando|como|onde|cade|resumo|saldo"
    r"|extrato|relatorio|how much|how many|what|which|when|summary|balance|report)\b"
    r"|^(?:me\s+)?(?:mostra|mostre|lista|liste|ver|total|show|list|total)\b"
)
_INCOME = re.compile(
    r"\b(?:recebi|ganhei|caiu|entrou|entraram|salario|freela|reembolso|me pagou|me pagaram"
    r"|me devolveu|vendi|received|earned|got paid|paid me|salary|income|refund|sold|paycheck)\b"
)
_NOTE = re.compile(
    r"^(?:(?:entao|ah|ok|blz|ei|mano|oi|e|so|please|pls)[\s,]+)*"
    r"(?:anota|anote|anotar|nota|guarda|registra|lembra que|salva que|note that|note:|write down"
    r"|remember that)\b"
)
_MET = re.compile(
    r"\b(?:falei|conversei|liguei|encontrei|almocei|jantei|tomei (?:um )?cafe|visitei|vi"
    r"|called|met|talked|spoke|saw|visited|had (?:lunch|dinner|coffee|a call))\b"
)
_DEBT = re.compile(
    r"\b(?:me dev\w*|te dev\w*|devo|to devendo|tô devendo|estou devendo|ficou devendo"
    r"|emprest\w*|owes? me|owed me|owe|lent|borrowed)\b"
    # a debt paid back in part, with no amount to record ("a Rebeca me pagou metade")
    r"|\bme (?:pagou|devolveu) (?:metade|parte|um pouco|so um pouco)\b"
)
# A time ahead: an interaction verb with it is a plan ("falei que vou ligar amanha" aside).
_AHEAD = re.compile(r"\b(?:amanha|depois de amanha|semana que vem|tomorrow|next week)\b")
CRM = "crm"
# "salva a Bianca: 11 98123-4567", "save Liam, my plumber": a person to keep.
_SAVE = re.compile(
    r"^(?:salva|salve|salvar|cadastra|cadastre|adiciona|add|save)\b(?!\s+(?:que|q|that)\b)"
)
# Money spent or received, told in the past without the amount yet ("gastei no posto hj",
# "paguei o aluguel"): never a purchase from the tenant's shop, never small talk.
_SPENT_OR_GOT = re.compile(
    r"\b(?:gastei|paguei|comprei|torrei|recebi|ganhei|me pagaram|caiu o salario|spent|paid"
    r"|bought|received|got paid|got my (?:paycheck|salary|pay))\b"
)
_NOT_A_RECORD = ("smalltalk.", "knowledge.", "sales.")
# What the router reads a message it cannot place as.
_UNPLACED = (*_NOT_A_RECORD, "handoff.")
# "tenho consulta no médico terça às 10", "I have a dentist appointment friday at 3": an event
# of the contact's own, told with its moment.
_HAVE_EVENT = re.compile(
    # "sexta tenho dentista", "amanhã eu tenho prova", "dia 15 tenho exame": the day said first
    r"^(?:(?:hoje|hj|amanha|amnh|depois de amanha|segunda|terca|quarta|quinta|sexta|sabado"
    r"|domingo|dia \d{1,2}(?:/\d{1,2})?|(?:semana|mes) que vem|tomorrow|today|monday|tuesday"
    r"|wednesday|thursday|friday|saturday|sunday)(?:\s+(?:a tarde|de manha|a noite|feira))?"
    r"[\s,]+)?(?:eu\s+)?(?:tenho|vou ter|i have|i've got|ive got)\s+(?:uma?\s+|an?\s+)?"
    r"(?:consulta|reuniao|dentista|medico|medica|entrevista|prova|aula|call|compromisso|exame|voo|jogo|festa|evento"
    r"|apresentacao|appointment|meeting|interview|exam|class|flight|doctor|dentist)\b"
)
# Words of the agenda: with them, a change is of a reminder or a meeting.
_AGENDA_WORDS = re.compile(
    r"\b(?:lembrete|reuniao|compromisso|consulta|agenda|reminder|meeting|appointment)s?\b"
)
# Under this the router's reading of a plan yields to spending told in the past.
_SURE_OF_A_PLAN = 0.5
# Intents a statement of money may be mistaken for.
_READ_AS_QUESTION = frozenset({"finance.query", "finance.summary"})


def _untold_plan(score: IntentScore, text: str) -> bool:
    """A reminder or meeting the router is unsure of, with no word asking for one ("comprei
    remédio na farmácia anteontem" is spending told, not something to be reminded of)."""
    if score.intent == "crm.log_interaction" and not find_person_names(text):
        return True  # "almocei fora com o pessoal do trampo": a meal, with nobody named
    return (
        score.intent in ("crm.add_reminder", "crm.add_meeting", "crm.cancel", "crm.move")
        and score.score < _SURE_OF_A_PLAN
        and _AGENDA_WORDS.search(fold(text)) is None
        and TRIGGER.search(text) is None
        and _HAVE_EVENT.search(fold(text)) is None
    )


# Words that change what was recorded ("foi 45", "na vdd", "muda", "was").
_CHANGE_WORDS = re.compile(
    r"\b(?:foi|era|na vdd|na verdade|errei|corrig\w*|muda\w*|troca\w*|altera\w*|atualiza\w*"
    r"|edita\w*|apaga\w*|desmarc\w*|cancel\w*|remarc\w*|adia\w*|adianta\w*|was|were"
    r"|actually|change|fix|wrong|edit|update|delete|remove|reschedule|move|push)\b|\*"
)


def _unsure_change(score: IntentScore, text: str) -> bool:
    """A change of a record the router is unsure of, with no word of changing: "45 de
    estacionamento, q absurdo mano" tells new spending."""
    return (
        score.intent == "finance.edit_last"
        and score.score < _SURE_OF_A_PLAN
        and _CHANGE_WORDS.search(fold(text)) is None
    )


_DAY_WORDS = re.compile(
    r"\b(?:hoje|hj|amanha|amnh|ontem|segunda|terca|quarta|quinta|sexta|sabado|domingo|dia"
    r"|today|tomorrow|yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\d"
)


def _plan_without_a_day(score: IntentScore, text: str) -> bool:
    """A reminder or meeting the router is unsure of, with no word asking for one and no day
    or hour: "meu chefe, o Augusto, prefere reunião de manhã" says how he is."""
    return (
        score.intent in ("crm.add_reminder", "crm.add_meeting")
        and score.score < _SURE_OF_A_PLAN
        and TRIGGER.search(text) is None
        and _DAY_WORDS.search(fold(text)) is None
    )


_HOW_MUCH_ASKED = re.compile(
    r"^(?:e\s+|and\s+|so\s+)?(?:quanto|qnto|qto|how much)\b(?!.*\b(?:custa|custam|cost|costs|vale"
    r"|e o|is the|are the|cobra|cobram|charge)\b)"
)


_HOW_MUCH = re.compile(r"\b(?:quanto|qnto|qto|how much)\b")
# "como eu paguei a farmácia?", "how did I pay the rent?"
HOW_PAID = re.compile(r"\bcomo (?:eu |que eu |q eu )?(?:paguei|pago|foi pag)|\bhow did i pay\b")
_RECORDS = frozenset({"finance.add_expense", "finance.add_income"})


def _record_asked_about(score: IntentScore, text: str) -> bool:
    """A record of money read where the message asks how much, naming no amount."""
    folded = fold(text)
    return (
        score.intent in _RECORDS
        and folded.rstrip().endswith("?")
        and _HOW_MUCH.search(folded) is not None
        and not find_amounts(text, money_hint=True)
    )


def _kind_of(text: str) -> str:
    return "finance.add_income" if _INCOME.search(fold(text)) else "finance.add_expense"


# "almocei fora ontem", "jantei no japonês", "had lunch out": done somewhere one pays.
_PAID_ACTIVITY = re.compile(
    r"\b(?:almocei|jantei|lanchei|tomei|abasteci|estacionei|pedi|had|ate|grabbed|ordered)\b"
)


_WENT = re.compile(r"\b(?:fui|fomos|went)\b")
_PAID_PLACES = frozenset(
    {Category.RESTAURANTS, Category.ENTERTAINMENT, Category.GROCERIES, Category.SHOPPING}
)


def _told_spending(text: str) -> bool:
    folded = fold(text)
    if _QUESTION.search(folded) is not None:
        return False
    if _SPENT_OR_GOT.search(folded) is not None:
        return True
    # An activity one pays for, told in the past with where it was: its amount is to be asked.
    category = guess_category(text)
    if _PAID_ACTIVITY.search(folded) is not None and category is not None:
        return True
    # "fui no cinema ontem": going where one pays to be (not the gym, not the doctor).
    return _WENT.search(folded) is not None and category in _PAID_PLACES


def money_statement(text: str) -> str | None:
    """The finance intent of a message that states an amount and asks nothing, else None."""
    folded = fold(text)
    if _QUESTION.search(folded):
        return None
    hint = mentions_money(text) or guess_category(text) is not None
    if not find_amounts(text, money_hint=hint):
        return None
    return _kind_of(text)


# Any fixed moment will do to ask whether a text says a time: the day it falls on is the
# planner's to read, with the turn's clock (no wall clock read here).
_ANY_MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def _says_when(text: str) -> bool:
    return bool(find_when(text, now=_ANY_MOMENT, tz="UTC"))


# "tenho algo marcado terça?", "qnd é minha consulta?", "when is my dentist appointment?"
_AGENDA_ASKED = re.compile(
    r"\b(?:marcad[oa]s?|agendad[oa]s?|compromissos?|lembretes?|agenda|reminders?|scheduled"
    r"|appointments?)\b|\b(?:qnd|quando|when)\s+(?:e|eh|é|is)\s+(?:a |o )?(?:minha|meu|my)\b"
    r"|\b(?:what'?s on|whats on|what do i have|o que (?:eu )?tenho|o q (?:eu )?tenho|oq tenho)\b"
)


def agenda_question(text: str) -> bool:
    """Whether a question asks about the contact's own agenda."""
    folded = fold(text)
    return _QUESTION.search(folded) is not None and _AGENDA_ASKED.search(folded) is not None


_BOOK = re.compile(
    r"^(?:(?:me|pf|pfv|por favor|ei|oi)\s+)?(?:marca|marque|marcar|agenda|agende|agendar|schedule"
    r"|book)\b(?!\s+(?:de|do|da)\b)"
)
# What "marca uma call com o Henrique" may be read as, when it books something.
_NOT_A_PLAN = frozenset(
    {"crm.add_contact", "crm.person_info", "crm.person_update", "crm.log_interaction"}
)
_REMINDER_NOUN = re.compile(r"\b(?:lembrete|reminder|alarme|alarm)\b")


def agenda_statement(text: str) -> str | None:
    """The agenda intent of an event told with its moment ("tenho consulta terça às 10"), or of
    a request for a warning ahead of something ("me avisa uns dias antes"); else None."""
    folded = fold(text)
    if find_offset(text) is not None:
        return "crm.add_reminder"
    if _BOOK.search(folded) and not _QUESTION.search(folded):
        # "marca dentista", "agenda uma call": something to put in the agenda, when or not.
        return "crm.add_reminder" if _REMINDER_NOUN.search(folded) else "crm.add_meeting"
    if _HAVE_EVENT.search(folded) and not _QUESTION.search(folded) and _says_when(text):
        return "crm.add_meeting"
    if find_repeat(text) is not None and _TASK.search(folded) and not _QUESTION.search(folded):
        # "e todo dia as 22h de tomar agua": a repeating task, with or without "me lembra"
        return "crm.add_reminder"
    return None


# "de tomar água", "pra regar as plantas", "to call mom": a task told after its moment.
_TASK = re.compile(r"\b(?:de|pra|para|to)\s+[a-z]+(?:ar|er|ir|or)\b|\bto [a-z]+\b")


def person_statement(text: str, *, unplaced: bool = False) -> str | None:
    """The people-notes intent of a statement that notes something about a named person,
    a past talk with them, or a debt between you; else None. When the router could not place
    the message (``unplaced``), a statement that opens with a person ("a Bia trabalha na
    Globo", "minha mãe mora em Santos") is a note about them too."""
    folded = fold(text)
    if _QUESTION.search(folded) or TELL_ABOUT.search(folded):
        return None
    if not find_person_names(text):
        return _opens_with_person(text) if unplaced else None
    if _DEBT.search(folded):
        return "crm.log_interaction"
    if find_amounts(text, money_hint=mentions_money(text)):
        return None  # "almocei com o João, paguei 50": money spent, told with whom
    if _SAVE.search(folded):
        return "crm.add_contact"
    if _NOTE.search(folded):
        return "crm.log_interaction"
    if _MET.search(folded) and not _AHEAD.search(folded):
        return "crm.log_interaction"
    return _opens_with_person(text) if unplaced else None


_BIRTHDAY = re.compile(r"\b(?:aniversario|niver|birthday|faz anos|nasceu|born)\b")


def _opens_with_person(text: str) -> str | None:
    if statement_subject(text) is None or find_amounts(text, money_hint=mentions_money(text)):
        return None
    return "crm.person_update" if _BIRTHDAY.search(fold(text)) else "crm.log_interaction"


# What a note about a person may be taken for by the router.
_NOT_A_NOTE = frozenset({"crm.person_info", "crm.add_contact", "crm.cancel", "crm.move"})


# "apaga a nota de q o Marcos me deve", "esquece o email do Augusto", "delete Tom's number":
# something noted about a person, to forget (never an expense that shares a word).
_FORGET = re.compile(
    r"^(?:(?:ah|ok|pf|pfv|por favor|please|ei|mano|opa|ops)[\s,]+)*(?:apag\w*|esquec\w*"
    r"|remov\w*|tira|exclu\w*|delet\w*|forget|erase)\b"
)
_NOTED = re.compile(
    r"\b(?:nota|notas|anotacao|anotacoes|anotei|anotado|o que (?:eu )?(?:falei|disse|contei)"
    r"|note|notes|what i (?:said|noted))\b"
    r"|\b(?:e-?mail|telefone|numero|celular|zap|aniversario|niver|phone|number|birthday)"
    r" (?:d[oa]|of) |['’]s (?:e-?mail|phone|number|birthday)\b"
)


def forget_statement(text: str) -> bool:
    """Whether the message asks to forget something noted about a named person."""
    folded = fold(text)
    return (
        _FORGET.search(folded) is not None
        and _NOTED.search(folded) is not None
        and bool(find_person_names(text))
    )


# "me lembra o que a Ana me pediu", "remind me what Tom said": a question, not a reminder.
_REMIND_WHAT = re.compile(
    r"^(?:me\s+)?(?:lembra|relembra|remind me)\s+(?:o que|oq|qual|quais|quem|quando|onde|como"
    r"|what|who|when|where|which|how)\b"
)


def reminded_what(text: str) -> str | None:
    """The question "me lembra o que ..." asks: about the agenda, or about a person."""
    folded = fold(text)
    if not _REMIND_WHAT.search(folded):
        return None
    if _AGENDA_ASKED.search(folded):
        return "crm.list_reminders"
    return "crm.person_info" if find_person_names(text) else None


def restate(
    score: IntentScore | None, text: str, enabled_agents: Collection[str]
) -> IntentScore | None:
    """The router's verdict, or a statement of money where it found none or read a question,
    or a note about a person whatever the router read."""
    if CRM in enabled_agents and forget_statement(text):
        strength = score.score if score is not None else 0.0
        return IntentScore("crm.person_forget", CRM, strength, strength)
    asked = reminded_what(text) if CRM in enabled_agents else None
    if asked is None and CRM in enabled_agents and TELL_ABOUT.search(fold(text)):
        asked = "crm.person_info" if find_person_names(text) else None
    if asked is not None:
        strength = score.score if score is not None else 0.0
        return IntentScore(asked, CRM, strength, strength)
    if (
        CRM in enabled_agents
        and (score is None or score.intent.startswith(_NOT_A_RECORD))
        and agenda_question(text)
    ):
        strength = score.score if score is not None else 0.0
        return IntentScore("crm.list_reminders", CRM, strength, strength)
    meeting = score is not None and score.intent == "crm.add_meeting"
    if CRM in enabled_agents and score is not None and meeting and find_repeat(text):
        # "todo domingo as 10h de regar as plantas": only reminders repeat
        return IntentScore("crm.add_reminder", CRM, score.score, score.similarity)
    # "tenho prova sábado às 8h", "marca dentista" change nothing, whatever the router read.
    unsure_move = score is not None and score.intent in (
        "crm.move",
        "crm.cancel",
        "crm.list_reminders",
    )
    unsure_move = unsure_move and _CHANGE_WORDS.search(fold(text)) is None
    booking = _BOOK.search(fold(text)) is not None and score is not None
    booking = booking and score is not None and score.intent in _NOT_A_PLAN
    if CRM in enabled_agents and (
        score is None or not score.intent.startswith("crm.") or unsure_move or booking
    ):
        agenda = agenda_statement(text)
        if agenda is not None:
            strength = score.score if score is not None else 0.0
            return IntentScore(agenda, CRM, strength, strength)
    # "met Rob for coffee yesterday" changes nothing, whatever the router read.
    if CRM in enabled_agents and (score is None or score.intent not in _NOT_A_NOTE or unsure_move):
        # "meu chefe, o Augusto, prefere reunião de manhã": no plan, whatever the router read
        # (one told with its hour, "o João vem amanhã às 15h", stays a plan).
        unplaced = (
            score is None or score.intent.startswith(_UNPLACED) or _plan_without_a_day(score, text)
        )
        noted = person_statement(text, unplaced=unplaced)
        if noted is not None and (score is None or score.intent != noted):
            strength = score.score if score is not None else 0.0
            return IntentScore(noted, CRM, strength, strength)
    if FINANCE not in enabled_agents:
        return score
    unplaced = score is None or score.intent.startswith(_UNPLACED)
    if unplaced and _HOW_MUCH_ASKED.search(fold(text)):
        # "how much today?", "quanto hj?": the contact's own spending, asked short.
        return IntentScore("finance.query", FINANCE, 0.0, 0.0)
    if HOW_PAID.search(fold(text)):
        # "como eu paguei a farmácia?": the entries, with how each was paid
        return IntentScore("finance.query", FINANCE, 0.0, 0.0)
    if score is not None and _record_asked_about(score, text):
        # "recebi quanto hj?", "gastei quanto no mercado?": a question about the records.
        return IntentScore("finance.query", FINANCE, score.score, score.similarity)
    read_as_question = score is not None and score.intent in _READ_AS_QUESTION
    if (
        score is None
        or score.intent.startswith(_NOT_A_RECORD)
        or read_as_question
        or _untold_plan(score, text)
    ) and _told_spending(text):
        strength = score.score if score is not None else 0.0
        return IntentScore(money_statement(text) or _kind_of(text), FINANCE, strength, strength)
    if (
        score is not None
        and score.intent not in _READ_AS_QUESTION
        and not _unsure_change(score, text)
    ):
        return score
    intent = money_statement(text)
    if intent is None:
        return score
    strength = score.score if score is not None else 0.0
    return IntentScore(intent, FINANCE, strength, strength)
