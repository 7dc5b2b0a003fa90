"""People's names in a message (PT and EN): "ligar pro João", "reunião com Maria da Silva".

A name is read in two ways:

- After a cue. Strong cues are verbs of contacting or meeting someone ("ligar pro/para o",
  "liga pra", "falar com", "conversar com", "reunião com", "encontrar", "mandar mensagem pra",
  "call", "meet", "text", "talk to", "meeting with", "remind me to call"): the next word is a name
  even in lower case ("ligar pro joão" gives "João"), unless it is a common noun or a role ("ligar
  pro banco", "falar com o gerente", "call mom", "call the plumber"). Weak cues ("com", "pro",
  "pra", "para", "with", "to", a title such as "Dr." or "dona") take a lower-case word only when it
  is a known first name ("paguei 50 pro joão", but not "pro mercado").
- Capitalised words anywhere, several in a row making one name ("João Pedro", "Ana Paula Souza"),
  with the particles "da", "de", "do", "dos", "das" inside ("Maria da Silva"). A capitalised word
  that opens a sentence is a name only when it is a known first name or another capitalised name
  follows it ("Amanhã tenho reunião" has none); "e" splits two names ("João e Maria").

Never names: weekdays, months, time words, greetings, pronouns, family and role words, places
("São Paulo", "Rio"), "Pix" and brands or apps ("Uber", "Nubank", "iFood"). Words in capitals
only ("PIX", "CPF") are acronyms unless a cue comes before them.

The name comes back with each word capitalised as the user wrote it or, when written in lower
case, with its first letter raised; particles stay lower case. Titles are not part of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whatsapp_ai.ai.extract._text import fold

# Folded common first names (PT and EN), to take a lower-case name after a weak cue and a
# capitalised one at the start of a sentence.
FIRST_NAMES = frozenset(
    {
        "adriana", "adriano", "alessandra", "alexandre", "alice", "aline", "amanda", "ana",
        "andre", "andrea", "andreia", "antonio", "arthur", "barbara", "beatriz", "bernardo",
        "bianca", "bruna", "bruno", "caio", "camila", "carla", "carlos", "carol", "carolina",
        "catarina", "cecilia", "cesar", "clara", "claudia", "claudio", "cristiane", "cristina",
        "daniel", "daniela", "davi", "david", "debora", "diego", "diogo", "douglas", "eduarda",
        "eduardo", "elaine", "elisa", "emanuel", "enzo", "erica", "fabiana", "fabio", "felipe",
        "fernanda", "fernando", "flavia", "francisco", "gabriel", "gabriela", "gilberto",
        "giovana", "gisele", "guilherme", "gustavo", "heitor", "helena", "henrique", "hugo",
        "igor", "isabel", "isabela", "isadora", "jessica", "joana", "joao", "joaquim", "jorge",
        "jose", "julia", "juliana", "julio", "larissa", "laura", "leandro", "leonardo", "leticia",
        "lorena", "lucas", "lucia", "luciana", "luciano", "luis", "luisa", "luiz", "luiza",
        "manuela", "marcela", "marcelo", "marcia", "marco", "marcos", "maria", "mariana", "marina",
        "mario", "marta", "mateus", "matheus", "mauricio", "miguel", "monica", "murilo", "natalia",
        "nicolas", "otavio", "patricia", "paula", "paulo", "pedro", "priscila", "rafael",
        "rafaela", "raquel", "renata", "renato", "ricardo", "roberta", "roberto", "rodrigo",
        "rogerio", "rosa", "samuel", "sandra", "sara", "sergio", "silvia", "simone", "sofia",
        "sophia", "tatiana", "thais", "thiago", "tiago", "valentina", "vanessa", "vicente",
        "vinicius", "vitor", "vitoria", "viviane", "wagner", "wesley", "yasmin", "zeca", "ze",
        "chico", "tonho", "amy", "andrew", "anna", "anthony", "ashley", "ben", "benjamin", "brian",
        "chris", "christopher", "elizabeth", "emily", "emma", "ethan", "george", "grace", "hannah",
        "jack", "jacob", "james", "jane", "jason", "jennifer", "jim", "joe", "john", "jonathan",
        "joseph", "josh", "joshua", "kate", "katie", "kevin", "linda", "lisa", "mark", "mary",
        "matt", "matthew", "michael", "mike", "nancy", "nick", "olivia", "paul", "peter", "rachel",
        "robert", "ryan", "sam", "sarah", "scott", "sophie", "steve", "steven", "susan", "thomas",
        "tom", "tony", "william"
    }
)  # fmt: skip
# Folded common surnames, to carry a lower-case name on ("falar com maria silva").
SURNAMES = frozenset(
    {
        "silva", "santos", "oliveira", "souza", "sousa", "lima", "pereira", "costa", "ferreira",
        "rodrigues", "almeida", "nascimento", "carvalho", "gomes", "martins", "araujo", "ribeiro",
        "alves", "barbosa", "rocha", "dias", "mendes", "castro", "cardoso", "moreira", "teixeira",
        "correia", "vieira", "melo", "freitas", "pinto", "nunes", "monteiro", "moura",
        "cavalcanti", "azevedo", "campos", "lopes", "soares", "machado", "fernandes", "batista",
        "smith", "johnson", "williams", "brown", "jones", "miller", "davis", "wilson"
    }
)  # fmt: skip
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "di", "del", "van", "von"})
_TITLES = frozenset(
    {"dr", "dra", "sr", "sra", "srta", "dona", "seu", "prof", "profa", "mr", "mrs", "ms", "miss"}
)
# Folded words that are never names (or never start one).
NOT_NAMES = frozenset(
    {
        "segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo", "feira", "monday",
        "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "janeiro", "fevereiro",
        "marco", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro",
        "dezembro", "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december", "hoje", "amanha", "ontem", "agora",
        "tudo", "nada", "isso", "sobre", "mais", "algo", "everything", "about", "anything",
        "depois", "antes", "semana", "mes", "ano", "dia", "noite", "tarde", "manha", "today",
        "tomorrow", "yesterday", "tonight", "now", "week", "month", "year", "oi", "ola", "ei",
        "opa", "bom", "boa", "obrigado", "obrigada", "valeu", "hi", "hello", "hey", "thanks",
        "please", "sim", "nao", "ok", "okay", "yes", "no", "eu", "voce", "voces", "vc", "ele",
        "ela", "eles", "elas", "nos", "me", "te", "mim", "meu", "minha", "seu", "sua", "i", "you",
        "he", "she", "we", "they", "my", "your", "his", "her", "our", "their", "it", "o", "a",
        "os", "as", "um", "uma", "the", "an", "and", "or", "e", "ou", "de", "do", "da", "que",
        "com", "pro", "pra", "para", "por", "na", "em", "to", "for", "with", "at", "on", "in",
        "of", "this", "that", "mae", "pai", "mamae", "papai", "vo", "vovo", "voh", "avo", "irma",
        "irmao", "tia", "tio", "prima", "primo", "esposa", "marido", "namorada", "namorado",
        "filho", "filha", "sogra", "sogro", "cunhado", "cunhada", "amigo", "amiga", "chefe",
        "patrao", "mom", "dad", "mother", "father", "sister", "brother", "aunt", "uncle", "wife",
        "husband", "son", "daughter", "grandma", "grandpa", "boss", "friend", "medico", "medica",
        "dentista", "banco", "gerente", "cliente", "clientes", "advogado", "advogada", "contador",
        "contadora", "encanador", "eletricista", "pedreiro", "mecanico", "mecanica", "professor",
        "professora", "doutor", "doutora", "fornecedor", "vendedor", "vendedora", "corretor",
        "corretora", "suporte", "atendente", "secretaria", "escola", "faculdade", "trabalho",
        "casa", "mercado", "farmacia", "hospital", "clinica", "condominio", "sindico", "portaria",
        "loja", "oficina", "academia", "igreja", "escritorio", "doctor", "dentist", "plumber",
        "lawyer", "accountant", "manager", "client", "customer", "bank", "school", "work", "home",
        "office", "store", "shop", "team", "support", "landlord", "pix", "uber", "ifood",
        "netflix", "spotify", "nubank", "itau", "bradesco", "santander", "caixa", "inter",
        "picpay", "paypal", "amazon", "shopee", "shein", "google", "apple", "whatsapp", "zap",
        "whats", "instagram", "facebook", "youtube", "magalu", "americanas", "carrefour", "assai",
        "atacadao", "rappi", "visa", "mastercard", "airbnb", "disney", "hbo", "mercadopago",
        "deus", "god", "natal", "pascoa", "christmas", "easter", "brasil", "brazil", "rio", "sao",
        "santa", "santo", "paulista", "lembra", "lembre", "lembrete", "lembrar", "remind",
        "reminder", "anota", "anote", "registra", "registre", "adiciona", "adicione", "agenda",
        "agende", "marca", "marque", "liga", "ligue", "ligar", "ligo", "call", "meet", "text",
        "email", "mensagem", "reuniao", "meeting", "almoco", "jantar", "lunch", "dinner", "cafe",
        "coffee", "gastei", "paguei", "comprei", "recebi", "quanto", "qual", "quais", "quando",
        "onde", "como", "quem", "what", "when", "where", "how", "who", "why", "add", "spent",
        "paid", "bought", "received", "preciso", "quero", "tenho", "vou", "vai", "pode", "posso",
        "need", "want", "have", "will", "can", "should", "could", "would", "tem", "favor", "cpf",
        "cnpj", "rg", "pdf", "seguro", "seguradora", "detran", "cartorio", "receita",
        "prefeitura", "operadora", "vivo", "claro", "tim", "net", "sky", "correios",
        "pessoal", "galera", "turma", "time", "equipe", "familia", "povo"
    }
)  # fmt: skip
# Places and brands of several words, folded.
_NOT_NAME_PHRASES = (
    "sao paulo", "rio de janeiro", "belo horizonte", "porto alegre", "mercado livre",
    "mercado pago", "pao de acucar", "prime video", "uber eats", "nova york", "new york",
    "santa catarina", "espirito santo", "rio grande do sul", "mato grosso",
)  # fmt: skip

_STRONG_PT = (
    r"(?:ligar|liga|ligue|ligo|telefonar|telefona|telefone|falar|fala|fale|conversar|conversa"
    r"|converse|reuniao|reunir|reunioes|encontro|encontrar|encontra|encontre|visitar|visita"
    r"|visite|mandar\s+(?:uma\s+)?mensagem|manda\s+(?:uma\s+)?mensagem|mande\s+(?:uma\s+)?mensagem"
    r"|mandar\s+(?:um\s+)?(?:zap|whats|whatsapp|email|e-mail)"
    r"|manda\s+(?:um\s+)?(?:zap|whats|whatsapp|email|e-mail)|chamar|chama|chame|avisar|avisa"
    r"|avise|cobrar|cobra|cobre"
    # "salva aí: Cintia manicure 11 9...": who is saved
    r"|(?:salva|salve|salvar|cadastra|cadastre|adiciona|adicione)(?:\s+(?:ai|ae|la))?\s*:)"
    r"(?:\s+(?:com|pro|pra|para|pros|pras|ao|a|o))?(?:\s+(?:o|a|os|as))?"
)
_STRONG_EN = (
    r"(?:call|phone|ring|text|email|message|meet(?:\s+with)?|meeting\s+with|talk\s+to"
    r"|speak\s+(?:to|with)|visit|catch\s+up\s+with|remind\s+me\s+to\s+call)"
)
_WEAK = (
    r"(?:com|pro|pra|para|pros|pras|ao|with|to|for|and|e)(?:\s+(?:o|a|os|as))?"
    r"|(?:dr|dra|sr|sra|srta|dona|seu|prof|profa|mr|mrs|ms|miss)\.?"
)
_STRONG_CUE = re.compile(rf"(?<!\w)(?:{_STRONG_PT}|{_STRONG_EN})\s+$")
_WEAK_CUE = re.compile(rf"(?<!\w)(?:{_WEAK})\s+$")
_TITLE_DOT = re.compile(rf"(?<!\w)(?:{'|'.join(sorted(_TITLES))})\.\s*$")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name as found, capitalised, and its span in the text."""

    name: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    folded: str
    start: int
    end: int

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper() and not (len(self.text) > 1 and self.text.isupper())


def _sentence_start(text: str, folded: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'“”(")
    if not before or before[-1] in "\n!?:;":
        return True
    return before[-1] == "." and _TITLE_DOT.search(folded, 0, len(before)) is None


def _cue(folded: str, start: int) -> str | None:
    if _STRONG_CUE.search(folded, 0, start):
        return "strong"
    return "weak" if _WEAK_CUE.search(folded, 0, start) else None


def _place_length(tokens: list[_Word], index: int) -> int:
    """How many words a place or brand of several words starting here takes, or 0."""
    for phrase in _NOT_NAME_PHRASES:
        size = len(phrase.split())
        if " ".join(t.folded for t in tokens[index : index + size]) == phrase:
            return size
    return 0


def _ok_first(word: _Word, cue: str | None) -> bool:
    """Whether this word may open a name."""
    # "Marco" after "ligar pro" is a person; "março" (with its cedilla) stays a month.
    named_like_a_month = (
        cue is not None and word.folded in FIRST_NAMES and word.text.casefold() == word.folded
    )
    if word.folded in NOT_NAMES and not named_like_a_month:
        return False
    if word.folded in _PARTICLES or len(word.folded) < 2:
        return False
    if word.capitalised or (word.text.isupper() and cue is not None):
        return True
    return cue == "strong" or (cue == "weak" and word.folded in FIRST_NAMES)


def _continues(word: _Word, lower_case: bool) -> bool:
    if word.folded in NOT_NAMES:
        return False
    if word.capitalised:
        return True
    return lower_case and (word.folded in FIRST_NAMES or word.folded in SURNAMES)


def _display(word: _Word) -> str:
    if word.folded in _PARTICLES and not word.capitalised:
        return word.text
    if word.text.isupper() and len(word.text) > 1:
        return word.text[0] + word.text[1:].lower()
    return word.text[0].upper() + word.text[1:]


def find_person_names(text: str) -> list[PersonName]:
    """The people named in the text, left to right (see the module docstring for the rules)."""
    folded = fold(text)
    tokens = [_Word(m.group(), folded[m.start() : m.end()], m.start(), m.end())
              for m in _WORD.finditer(text)]  # fmt: skip
    found: list[PersonName] = []
    index = 0
    while index < len(tokens):
        word = tokens[index]
        place = _place_length(tokens, index)
        if place:
            index += place
            continue
        cue = _cue(folded, word.start)
        if word.folded in _TITLES or not _ok_first(word, cue):
            index += 1
            continue
        parts = [word]
        lower_case = not word.capitalised
        following = index + 1
        while following < len(tokens):
            candidate = tokens[following]
            if text[parts[-1].end : candidate.start] != " ":
                break
            if (
                candidate.folded in _PARTICLES
                and following + 1 < len(tokens)
                and text[candidate.end : tokens[following + 1].start] == " "
                and _continues(tokens[following + 1], lower_case)
            ):
                parts += [candidate, tokens[following + 1]]
                following += 2
                continue
            if candidate.folded in _PARTICLES or not _continues(candidate, lower_case):
                break
            parts.append(candidate)
            following += 1
        index = following
        if (
            cue is None
            and word.capitalised
            and _sentence_start(text, folded, word.start)
            and word.folded not in FIRST_NAMES
            and len(parts) == 1
        ):
            continue
        name = " ".join(_display(p) for p in parts)
        found.append(PersonName(name, (parts[0].start, parts[-1].end)))
    return found or _in_a_persons_place(text, folded)


# Where only a person fits, a name typed in lower case is still a name: "o tiago me deve 50",
# "a bia faz niver dia 3", "niver da rafa é 5 de maio" (the word must not be a common one).
_PERSONS_PLACE = re.compile(
    r"^(?:(?:e|mas|ah|ent(?:ao|ão))\s+)?(?:o|a)\s+(?P<lead>[a-z]{3,})\s+(?:me dev\w*|me pag\w*"
    r"|me emprest\w*|me devolv\w*|faz (?:niver|aniversario|anos)|fez (?:niver|aniversario|anos)"
    r"|mora|morava|trabalha|nasceu|casou|mudou|se mudou|e meu|e minha|eh meu|eh minha)\b"
    r"|\b(?:niver|aniversario)\s+d[oa]\s+(?P<of>[a-z]{3,})\b"
)


# Words that stand there and are not someone ("o carro faz barulho" aside, these do).
_NOT_SOMEONE = frozenset({"povo", "pessoal", "gente", "time", "cara", "mano", "moco", "moca"})


def _in_a_persons_place(text: str, folded: str) -> list[PersonName]:
    """The lower-case name said where only a person fits, when no other was found."""
    found = _PERSONS_PLACE.search(folded)
    if found is None:
        return []
    group = "lead" if found.group("lead") else "of"
    word = found.group(group)
    if word in NOT_NAMES or word in _NOT_SOMEONE:
        return []
    start, end = found.span(group)
    return [PersonName(text[start:end][:1].upper() + text[start + 1 : end], (start, end))]
