"""The basic replies: greetings, thanks, help and what the assistant can do (for this tenant's
agents, in its own words), short honest small talk, and an honest "I didn't get that"."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from whatsapp_ai.ai.agents.context import DEFAULT_TIMEZONE
from whatsapp_ai.ai.extract import split_intents, starts_request
from whatsapp_ai.ai.language import (
    assumed_language,
    conversation_language,
    preferred_language,
    words,
)
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.ai.voice import Voice, addressed, bot_answer, first_name, greeting, help_text
from whatsapp_ai.core.i18n import text
from whatsapp_ai.core.text import fold

MODEL_NAME = "offline-basic"

_GREETINGS = frozenset(
    [
        "oi",
        "ola",
        "hi",
        "hello",
        "hey",
        "bom",
        "boa",
        "good",
        "eae",
        "eai",
        "iae",
        "opa",
        "salve",
        "fala",
        "coe",
        "yo",
        "hola",
    ]
)
_THANKS = frozenset(
    [
        "obrigado",
        "obrigada",
        "valeu",
        "vlw",
        "brigado",
        "brigada",
        "obg",
        "obgd",
        "obgda",
        "brigadao",
        "obrigadao",
        "thanks",
        "thank",
        "ty",
        "thx",
        "tks",
    ]
)
_HELP = frozenset(["ajuda", "help", "menu"])

# Small talk, matched on the folded message (short messages only: a request is not small talk).
_SMALL_TALK: dict[str, re.Pattern[str]] = {
    "capabilities": re.compile(
        r"\b(?:o ?q(?:ue)?|oq) (?:(?:vc|voce|tu) )?(?:sabe|consegue|pode) fazer\b"
        r"|\bpra que (?:vc |voce )?serve\b|\bcomo (?:vc|voce) (?:pode )?(?:me )?ajuda"
        r"|\bwhat (?:can|do) you do\b|\bwhat are you able to do\b|\bhow can you help\b"
    ),
    "bot": re.compile(
        r"\b(?:vc|voce|tu|c) (?:e|eh|é) (?:um |uma )?(?:robo|bot|ia|humano|pessoa|maquina)\b"
        r"|\b(?:e|eh) (?:um )?(?:robo|bot)\b\??$|\bfalando com (?:um )?(?:robo|bot|humano)\b"
        r"|\bare you (?:a |an )?(?:bot|robot|human|real person|ai|machine)\b"
        r"|\bis this (?:a )?(?:bot|robot|human)\b"
    ),
    "how_are_you": re.compile(
        r"\b(?:tudo (?:bem|bom|certo|joia|tranquilo)|td (?:bem|bom|certo|blz)"
        r"|como (?:vai|vc (?:esta|ta)|voce (?:esta|ta)|esta voce)|como (?:esta|ta)\??$"
        r"|beleza\?|suave\?|blz\?|de boa\?|tudo em cima)"
        r"|\bhow (?:are|r) (?:you|u)\b|\bhow'?s it going\b|\bwhat'?s up\b|\bhow are things\b"
    ),
    "name": re.compile(
        r"\b(?:qual (?:e |eh )?(?:o )?meu nome|como (?:vc|voce|tu) me chama|(?:vc |voce )?sabe"
        r" (?:o )?meu nome|quem sou eu|what'?s my name|do you know my name|who am i)\b"
    ),
    "sorry": re.compile(
        r"\b(?:burr[oa]|lerd[oa]|inutil|idiota|errou tudo|(?:nao|n|num) entende(?:u)? nada"
        r"|(?:nao|n) serve pra nada|(?:nao|n) sabe nada"
        r"|demor(?:ou|a) (?:muito|demais|mt|mto|pra responder)|que demora|q demora|demorando"
        r"|q raiva|que raiva"
        r"|pessimo|pqp|nao funciona|nao presta"
        # "lixo", "droga": the trash to take out, unless said of the assistant ("que lixo")
        r"|(?:que|q|mas que|um|uma|isso e|isso eh|vc e|voce e|vc eh|ta uma?|esse|essa|pura|puro)"
        r" (?:lixo|droga|merda|porcaria|bosta)|(?:lixo|droga|merda|porcaria|bosta) de (?:bot|robo"
        r"|app|assistente|aplicativo|sistema|atendimento|ia)"
        r"|(?:anotou|registrou|entendeu|fez|colocou) (?:tudo )?errad[oa]"
        r"|ja (?:falei|disse|expliquei)|de novo isso|affs?|ridiculo)\b"
        r"|^(?:lixo|droga|merda|porcaria|bosta)\b"
        r"|\b(?:useless|stupid|dumb|so slow|too slow|you suck|got it all wrong"
        r"|doesn'?t understand)\b"
    ),
    "today": re.compile(
        r"\b(?:que|q|qual) (?:dia|data) (?:e|eh|é|ta|cai) (?:hoje|hj)\b"
        r"|\b(?:hoje|hj) (?:e|eh) que dia\b|\bque dia (?:e|eh) hoje\b"
        r"|\bwhat(?:'s| is) (?:the date|today'?s date)\b"
        r"|\bwhat day is (?:it|today)\b"
    ),
    "sad": re.compile(
        r"\b(?:to|estou|tou) (?:triste|mal|pra baixo|deprimid[oa])\b"
        r"|\bi'?m (?:sad|feeling down|depressed)\b"
    ),
    "ack": re.compile(
        r"^(?:(?:k|h|a|ha|he|hi|rs)+|ok+|okay|blz|beleza|certo|show|top|joia|suave|tranquilo"
        r"|entendi|ta bom|ta|fechou|lol|lmao|haha+|nice|cool|got it|alright|sure|fine)[!. ]*$"
    ),
}
# A complaint about the wait ("vc demora mt pra responder").
_SLOW = re.compile(r"\b(?:demor\w*|lerd[oa]|slow|took (?:so|too) long)\b")
_SHORT = 8
# Words small talk comes wrapped in; a message with more than a couple of others asks something.
_FILLER_WORDS = """
oi ola eae eai opa bom dia boa tarde noite e ai por com vc voce tu ne que q pra bot robo de hj
hoje mto muito ta you re are is this the so hi hey hello and good morning evening o a um uma me
mano mana parceiro parca cara brother bro man vei amigo amiga tmj fala ai eai iae blz beleza
x vezes ja nada meu minha
"""
_FILLER = frozenset(_FILLER_WORDS.split())
_LEFT_OVER = 2
_STRETCH = re.compile(r"(\w)\1{2,}")
_E_AI = re.compile(r"\b[eE] a[ií]\b")
_TIMES = re.compile(r"\b\d{1,2}\s*(?:x|vezes)\b")


def complains(message: str) -> bool:
    """Whether a message, however long, complains about the assistant ("vc é mt burro, anotou
    meu gasto errado ontem")."""
    return _SMALL_TALK["sorry"].search(_TIMES.sub(" x ", fold(message))) is not None


def small_talk(message: str) -> str | None:
    """The kind of small talk a short message is ("bot", "how_are_you", ...), if it is all the
    message says ("tudo bem? gastei 50" is a request)."""
    # "ja falei 3x": a count of times is part of the complaint, not a request's number.
    folded = _TIMES.sub(" x ", fold(message)).strip()
    if not folded or len(folded.split()) > _SHORT or any(c.isdigit() for c in folded):
        return None
    if any(starts_request(clause.text) for clause in split_intents(message)[1:]):
        return None  # "tudo bem? quanto gastei hoje?": the question after the greeting counts
    for kind, pattern in _SMALL_TALK.items():
        if pattern.search(folded):
            rest = [w for w in re.findall(r"[a-z]+", pattern.sub(" ", folded)) if w not in _FILLER]
            return kind if len(rest) <= _LEFT_OVER else None
    return None


def _today(language: str, turn: TurnInput) -> str:
    """ "Hoje é quarta-feira, 04/03/2026.", in the contact's time zone."""
    zone = ZoneInfo(turn.contact_timezone or DEFAULT_TIMEZONE)
    day = (turn.now or datetime.now(UTC)).astimezone(zone).date()
    weekday = text(language, f"formats.weekday_long.{day.weekday()}")
    month = text(language, f"formats.month.{day.month}")
    return text(
        language,
        "assistant.today",
        weekday=weekday,
        day=day.day,
        month_name=month,
        year=day.year,
    )


def voice_of(turn: TurnInput) -> Voice:
    """Who the assistant is for the turn's tenant."""
    return Voice(
        turn.tenant_name,
        turn.enabled_agents,
        turn.assistant_name,
        turn.assistant_description,
    )


class OfflineReplyStep:
    """Answers greetings, thanks, help and small talk, and otherwise says plainly it did not
    understand."""

    async def reply(self, turn: TurnInput) -> Reply:
        """A short reply in the user's language."""
        previous = [item.body for item in turn.history if item.author == "user"]
        language = preferred_language(turn.contact_language) or conversation_language(
            turn.text, previous, assumed_language(turn.contact_preferences)
        )
        # "obrigadaaa", "oiii": a stretched word is the word.
        said = {_STRETCH.sub(r"\1", word) for word in words(_E_AI.sub("eai", turn.text))}
        first = first_name(turn.contact_name)
        name = addressed(turn.contact_name)
        voice = voice_of(turn)
        talk = small_talk(turn.text)
        if not said and turn.attachments:
            reply = text(language, "assistant.file_received", name=name)
        elif said & _HELP or talk == "capabilities":
            reply = help_text(language, voice)
        elif talk == "bot":
            reply = bot_answer(language, voice)
        elif said & _THANKS:
            reply = text(language, "assistant.thanks", name=name)
        elif said & _GREETINGS and len(said) <= 4 and talk != "how_are_you":
            reply = greeting(language, voice, name)
        elif talk == "today":
            reply = _today(language, turn)
        elif talk == "name":
            known = "assistant.your_name" if first else "assistant.your_name_unknown"
            reply = text(language, known, name=first)
        elif talk == "sorry" or (talk is None and complains(turn.text)):
            # "vc eh mt burro, nao entende nada q eu falo": an apology, and a way on
            slow = _SLOW.search(fold(turn.text)) is not None
            reply = text(language, "support.slow" if slow else "support.sorry", name=name)
        elif talk is not None:
            reply = text(language, f"support.{talk}", name=name)
        else:
            reply = text(language, "assistant.not_understood", name=name)
        return Reply(text=reply, model=MODEL_NAME, language=language)
