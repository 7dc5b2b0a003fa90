"""Who a statement is about, when it opens with them: "a Bia trabalha na Globo", "my boss Rick
loves golf", "o pedro vai casar em junho", "minha mãe mora em Santos".

A statement that opens with a person (their name, after an article or a relation such as "meu
chefe", or the relation alone) and goes on to say something of them is a note about that
person. A question, or a person named later in the sentence ("liga pro Pedro", "paguei o
Pedro"), is not.
"""

from __future__ import annotations

import re

from whatsapp_ai.ai.extract._text import fold
from whatsapp_ai.ai.extract.names import FIRST_NAMES, NOT_NAMES, find_person_names

# What people call those they know, PT and EN (folded).
RELATIONS = frozenset((
    "mae", "pai", "mamae", "papai", "vo", "vovo", "avo", "irma", "irmao", "tia", "tio", "prima",
    "primo", "esposa", "marido", "namorada", "namorado", "noiva", "noivo", "filho", "filha",
    "sogra", "sogro", "cunhado", "cunhada", "amigo", "amiga", "chefe", "patrao", "patroa",
    "vizinho", "vizinha", "colega", "socio", "socia", "afilhado", "afilhada", "madrinha",
    "padrinho", "sobrinho", "sobrinha", "mom", "dad", "mother", "father", "sister", "brother",
    "aunt", "uncle", "wife", "husband", "girlfriend", "boyfriend", "fiance", "fiancee", "son",
    "daughter", "grandma", "grandpa", "boss", "friend", "neighbor", "neighbour", "coworker",
    "colleague", "partner", "cousin", "niece", "nephew",
    # the people who look after them
    "dentista", "medico", "medica", "contador", "contadora", "advogado", "advogada", "personal",
    "manicure", "cabeleireiro", "cabeleireira", "barbeiro", "encanador", "eletricista",
    "mecanico", "professor", "professora", "terapeuta", "psicologo", "psicologa",
    "nutricionista", "dermatologista", "pediatra", "diarista", "faxineira", "motorista",
    "veterinario", "veterinaria", "corretor", "corretora", "dentist", "doctor", "lawyer",
    "accountant", "plumber", "electrician", "mechanic", "teacher", "therapist", "trainer",
    "hairdresser", "barber", "vet", "realtor", "nanny", "cleaner",
))  # fmt: skip
# "a vizinha do 42, dona Cida, ...", "meu chefe, o Augusto, ...": the relation, then its name.
_APPOSITIVE = re.compile(
    r"^\s*(?:d[oa]\s+\d+\s*)?,\s*(?:(?:o|a|the|dona|seu|sr|sra|dr|dra)\.?\s+)?", re.IGNORECASE
)
# "meu dentista é o Dr. Paulo": the relation is named by who follows "é".
_IS = re.compile(
    r"^\s*(?:e|é|eh|is|se chama|chama|is called|(?:'s|’s) name is)\s+(?:(?:o|a|the)\s+)?",
    re.IGNORECASE,
)
# Words that may open the phrase naming the person ("o", "my", "minha melhor").
_LEAD = frozenset((
    "o", "a", "the", "my", "meu", "minha", "nosso", "nossa", "dona", "seu", "sr", "sra", "dr",
    "dra", "melhor", "best", "old", "new", "novo", "nova", "ex",
))  # fmt: skip
# What never follows the subject of a statement about them.
_NOT_SAID_OF = frozenset((
    "e", "and", "ou", "or", "que", "q", "quem", "who", "what", "when", "where", "qual",
))  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_QUESTION = re.compile(
    r"\?|^(?:qual|quais|quando|onde|quem|qm|como|o que|oq|what|where|when|who|which|how|does"
    r"|do|did|is|are)\b"
)


# How a relation typed without accents is written as a name ("mae" → "Mãe").
_WRITTEN = {
    "mae": "Mãe", "irma": "Irmã", "irmao": "Irmão", "vo": "Vó", "avo": "Avó", "mamae": "Mamãe",
    "patrao": "Patrão", "socio": "Sócio", "socia": "Sócia", "mecanico": "Mecânico",
    "medico": "Médico", "medica": "Médica", "psicologo": "Psicólogo", "psicologa": "Psicóloga",
    "veterinario": "Veterinário", "veterinaria": "Veterinária",
}  # fmt: skip


def relation_name(word: str) -> str:
    """A relation as the name of the person it stands for ("mae" → "Mãe", "chefe" → "Chefe")."""
    return _WRITTEN.get(fold(word), word.capitalize())


def statement_subject(text: str) -> str | None:
    """The person a statement opens with (their name, or the relation they are called by,
    capitalised), when it goes on to say something of them; else None."""
    folded = fold(text)
    if _QUESTION.search(folded):
        return None
    words = list(_WORD.finditer(text))
    index = 0
    while index < min(len(words), 4) and fold(words[index].group()) in _LEAD | RELATIONS:
        index += 1
    if index >= len(words):
        return None
    subject, end = _named(text, words, index)
    relation = subject is None and index > 0 and fold(words[index - 1].group()) in RELATIONS
    if relation:
        if index == 1:
            return None  # "mãe mora em Santos": no article, likely not a statement of ours
        subject, end = relation_name(words[index - 1].group()), words[index - 1].end()
        called = _IS.match(text[end:]) or _APPOSITIVE.match(text[end:])
        at = end + called.end() if called else -1
        # the name may follow a title ("o Dr. Paulo")
        named = [n for n in find_person_names(text) if called and 0 <= n.span[0] - at <= 5]
        if named:
            # "meu dentista é o Dr. Paulo, fica na Av. Paulista", "my sister Amy's birthday"
            return re.sub(r"['’]s$", "", named[0].name)
    if subject is None:
        return None
    rest = [fold(w.group()) for w in _WORD.finditer(text[end:])]
    if len(rest) < 2 or (rest[0] in _NOT_SAID_OF and not (relation and rest[0] == "e")):
        return None
    return re.sub(r"['’]s$", "", subject)


def _named(text: str, words: list[re.Match[str]], index: int) -> tuple[str | None, int]:
    """The name that starts at this word, and where it ends (None when there is none)."""
    start = words[index].start()
    for found in find_person_names(text):
        if found.span[0] == start:
            return found.name, found.span[1]
    word = words[index].group()
    after_article = index > 0 and fold(words[index - 1].group()) in ("o", "a")
    if after_article and fold(word) in FIRST_NAMES:
        return word.capitalize(), words[index].end()  # "o pedro vai casar em junho"
    following = words[index + 1].group() if index + 1 < len(words) else ""
    if (
        word[:1].isupper()
        and not word.isupper()
        and fold(word) not in NOT_NAMES
        and following[:1].islower()
    ):
        # "Omar moved to Denver", "Nina works at Spotify", "Ryan's email is ..."
        return re.sub(r"['’]s$", "", word), words[index].end()
    return None, 0


# "me fala tudo sobre o Rafa", "tell me about Nina": a question about someone, never a note.
TELL_ABOUT = re.compile(
    r"^(?:me\s+)?(?:fala|conta|diz)\s+(?:tudo\s+|mais\s+)?(?:sobre|d[oa])\b"
    r"|\btell me (?:all |everything |more )?about\b"
)
