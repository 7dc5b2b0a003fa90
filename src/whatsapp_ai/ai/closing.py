"""Recognizing a message that ends the conversation (PT and EN).

A message closes the conversation only when all of it is closing talk (thanks, acknowledgements,
farewells, "that's all", courtesy filler, emojis) and it carries a real ending signal: a farewell
("tchau", "see you"), a "that's all" ("era só isso", "nothing else") or a request to close ("pode
encerrar"). Any question mark or any word outside this vocabulary keeps the conversation open.

Decisions on the ambiguous cases:

- Thanks or an acknowledgement alone ("obrigado", "ok", "não, obrigado") does not close: the
  assistant answers "you're welcome" and the contact may go on. A farewell added closes.
- "boa noite", "boa tarde" and "bom dia" are greetings as often as farewells: they end the
  conversation only after thanks or an acknowledgement ("obrigado, boa noite"), never alone or
  first ("boa noite", "boa noite, obrigado pelo retorno"). "good night" is always a farewell.
- "tudo bem" / "tudo bom" are usually the greeting's question, so they are filler, not
  acknowledgement.
"""

from __future__ import annotations

import re

from whatsapp_ai.core.text import fold

# Phrases are written folded (lower case, no accents, no apostrophes), words separated by a space.
THANKS = (
    "obrigado", "obrigada", "obrigadao", "obrigadinho", "obrigadinha", "obg", "obgd", "obgda",
    "obgdo", "obrigad", "brigado", "brigada", "brigadao", "valeu", "vlw", "valew", "agradeco",
    "agradecido", "agradecida", "grato", "grata", "gratidao", "thanks", "thank you", "thank u",
    "thankyou", "thx", "thnx", "thanx", "tks", "tnx", "ty", "tysm", "cheers", "many thanks",
    "much appreciated", "appreciate it", "i appreciate it", "appreciated",
)  # fmt: skip
ACKNOWLEDGEMENTS = (
    "ok", "okay", "okk", "oki", "okey", "k", "certo", "blz", "beleza", "perfeito", "perfeita",
    "otimo", "otima", "show", "show de bola", "top", "legal", "massa", "joia", "boa",
    "tranquilo", "tranquila", "suave", "de boa", "combinado", "fechado", "entendi", "entendido",
    "entendida", "certinho", "ta", "ta bom", "ta otimo", "ta certo", "ta joia", "tudo certo",
    "tudo ok", "tudo resolvido", "resolvido", "sim", "isso", "isso mesmo", "isso ai", "e isso",
    "e isso ai", "nao", "great", "cool", "perfect", "got it", "gotcha", "alright", "all right",
    "sounds good", "fine", "nice", "awesome", "understood", "sure", "good", "very good",
    "excellent", "wonderful", "no problem", "all good", "yes", "yeah", "yep", "no", "nope",
    "im good", "i see",
)  # fmt: skip
# Words that add nothing either way: intensifiers, what the thanks are for, forms of address.
FILLERS = (
    "e", "and", "mas", "but", "so", "entao", "pois", "bom", "well", "enfim", "anyway", "muito",
    "mto", "mt", "mesmo", "demais", "viu", "mais uma vez", "de novo", "again", "so much",
    "a lot", "very much", "por enquanto", "por hoje", "for now", "for today", "por tudo",
    "pela ajuda", "pela atencao", "pelo atendimento", "pela informacao", "pelas informacoes",
    "for the help", "for your help", "for everything", "for the info", "pra voce", "para voce",
    "pra vc", "pra voces", "para voces", "pra vcs", "voce tambem", "vc tambem", "igualmente",
    "to you", "you too", "de nada", "tudo bem", "tudo bom", "amigo", "amiga", "querido", "querida",
    "moco", "moca", "pessoal", "gente", "man", "mate", "buddy", "friend", "guys", "ai", "agora",
    "now", "por favor", "please", "pf", "pfv",
)  # fmt: skip
FAREWELLS = (
    "tchau", "tchauzinho", "xau", "xauzinho", "ate", "ate mais", "ate logo", "ate breve",
    "ate a proxima", "ate amanha", "ate depois", "ate mais tarde", "falou", "flw", "fui",
    "abraco", "abracos", "um abraco", "abs", "beijo", "beijos", "bj", "bjs", "fica com deus",
    "fique com deus", "vai com deus", "va com deus", "fica na paz", "fique na paz",
    "bom descanso", "bom fim de semana", "bom final de semana", "otimo dia", "otima tarde",
    "otima noite", "tenha um bom dia", "tenha uma boa tarde", "tenha uma boa noite",
    "tenha um otimo dia", "um bom dia", "uma boa tarde", "uma boa noite", "bye", "bye bye",
    "byebye", "goodbye", "good bye", "bye now", "see you", "see ya", "see you later",
    "see you soon", "see you tomorrow", "cya", "later", "take care", "have a nice day",
    "have a good day", "have a great day", "have a nice evening", "have a good night",
    "have a good one", "have a nice weekend", "have a good weekend", "good night", "goodnight",
    "gn", "talk to you later", "talk later", "ttyl", "farewell",
)  # fmt: skip
# Greetings that also sign off: a farewell only after thanks or an acknowledgement.
SIGN_OFF_GREETINGS = ("boa noite", "boa tarde", "bom dia")
THATS_ALL = (
    "e so isso", "era so isso", "so isso", "so isso mesmo", "era so isso mesmo", "so isso por hoje",
    "por hoje e so", "era isso", "era isso mesmo", "e isso por hoje", "nada mais", "mais nada",
    "nao preciso de mais nada", "nao preciso mais de nada", "nao preciso de nada",
    "nao precisa de mais nada", "nao preciso de mais nada nao", "thats all", "that is all",
    "thats it", "that is it", "thatll be all", "that will be all", "thats everything",
    "thats all for now", "thats all i needed", "thats all i need", "nothing else",
    "nothing more", "no more questions", "im done", "i am done", "were done", "we are done",
    "all set", "im all set", "i am all set",
)  # fmt: skip
_CLOSE_VERBS = (
    "pode encerrar", "podem encerrar", "pode finalizar", "pode fechar", "pode terminar",
    "encerrar", "encerra", "encerre", "finalizar", "finaliza", "finalize",
)  # fmt: skip
_CLOSE_OBJECTS = (
    "o atendimento",
    "atendimento",
    "a conversa",
    "conversa",
    "o chat",
    "o chamado",
    "o ticket",
)
_EN_CLOSE_VERBS = ("close", "end", "you can close", "you can end", "please close", "please end")
_EN_CLOSE_OBJECTS = ("the chat", "this chat", "chat", "the conversation", "this conversation",
                     "conversation", "the ticket", "this ticket", "this")  # fmt: skip
CLOSE_REQUESTS = (
    *_CLOSE_VERBS,
    *(f"{verb} {obj}" for verb in _CLOSE_VERBS for obj in _CLOSE_OBJECTS),
    "you can close",
    *(f"{verb} {obj}" for verb in _EN_CLOSE_VERBS for obj in _EN_CLOSE_OBJECTS),
)

# What each phrase contributes to the verdict.
_ENDING, _COURTESY, _SIGN_OFF, _NEUTRAL = 1, 2, 4, 0


def _phrase_kinds() -> dict[tuple[str, ...], int]:
    kinds: dict[tuple[str, ...], int] = {}
    for phrases, kind in (
        (FILLERS, _NEUTRAL),
        (THANKS, _COURTESY),
        (ACKNOWLEDGEMENTS, _COURTESY),
        (SIGN_OFF_GREETINGS, _SIGN_OFF),
        (FAREWELLS, _ENDING),
        (THATS_ALL, _ENDING),
        (CLOSE_REQUESTS, _ENDING),
    ):
        kinds.update((tuple(phrase.split()), kind) for phrase in phrases)
    return kinds


_KINDS = _phrase_kinds()
_LONGEST = max(len(words) for words in _KINDS)
_LAUGH = re.compile(r"k{2,}|(?:ha)+h?|(?:he){2,}|(?:hi){2,}|(?:rs)+|lol|(?:ja){2,}")
_QUESTION = re.compile(r"[?？¿]")
_REPEATS = re.compile(r"(\w)\1{2,}")


def _words(text: str) -> tuple[list[str], set[int]]:
    """The folded words ("tchauuu" shrunk to "tchau") and the indexes punctuation precedes."""
    folded = re.sub(r"['’ʼ`´]", "", fold(text))
    words: list[str] = []
    breaks: set[int] = set()
    for match in re.finditer(r"(\w+)|[^\w\s]+", folded):
        word = match.group(1)
        if word is None:
            breaks.add(len(words))
        elif not _LAUGH.fullmatch(word):
            words.append(word if (word,) in _KINDS else _REPEATS.sub(r"\1", word))
    return words, breaks


def wants_to_close(text: str) -> bool:
    """Whether the whole message is closing talk that ends the conversation (see module doc)."""
    if _QUESTION.search(text):
        return False
    words, breaks = _words(text)
    # Every way of reading the words as vocabulary phrases (none spanning punctuation), as
    # (position, kinds seen so far).
    states = {(0, 0)}
    frontier = [(0, 0)]
    while frontier:
        start, seen = frontier.pop()
        for end in range(start + 1, min(start + _LONGEST, len(words)) + 1):
            if end - 1 in breaks and end - 1 > start:
                break
            kind = _KINDS.get(tuple(words[start:end]))
            if kind is None:
                continue
            if kind == _SIGN_OFF and not seen & _COURTESY:
                kind = _NEUTRAL  # a greeting signs off only after thanks or an acknowledgement
            state = (end, seen | kind)
            if state not in states:
                states.add(state)
                frontier.append(state)
    return any(position == len(words) and seen & (_ENDING | _SIGN_OFF) for position, seen in states)


# "pode fechar", "finaliza" right after the assistant showed an order: close the order (check
# out), never the conversation.
_ORDER_SHOWN = re.compile(r"\b(?:total do pedido|seu pedido:|order total|your order:)")
_CLOSE_IT = re.compile(
    r"^(?:(?:ok|blz|beleza|entao|pode|podem|ja)[\s,]+)*(?:fech\w*|finaliz\w*|encerr\w*|conclu\w*"
    r"|close it|check ?out|finish it)(?:\s+(?:ai|aí|pra mim|por favor|pfv|please))?[\s.!]*$"
)


def closes_the_order(text: str, last_reply: str | None) -> bool:
    """Whether a bare "pode fechar" answers an order the assistant just showed."""
    return (
        last_reply is not None
        and _ORDER_SHOWN.search(fold(last_reply)) is not None
        and _CLOSE_IT.match(fold(text).strip()) is not None
    )
