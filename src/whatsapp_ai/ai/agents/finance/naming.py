"""The words a person uses for an entry: its own description when recorded ("ifood",
"aluguel", "tenis"), and the entry a correction names ("o do mercado foi 44", "apaga o uber",
"the coffee was 6 not 5")."""

from __future__ import annotations

import re
from decimal import Decimal

from whatsapp_ai.ai.extract import find_amounts, guess_payment_method
from whatsapp_ai.core.text import fold

# Words that are never a name for an entry: verbs of spending, articles and prepositions,
# money and time words, payment words, fillers. Matched folded.
_FILLER = frozenset((
    "gastei", "gasto", "gastos", "paguei", "pago", "comprei", "compra", "torrei", "recebi",
    "ganhei", "entrou", "caiu", "deu", "custou", "spent", "spend", "paid", "pay", "bought",
    "buy", "received", "earned", "got", "get", "cost", "came", "o", "a", "os", "as", "um",
    "uma", "uns", "umas", "de", "do", "da", "dos", "das", "no", "na", "nos", "nas", "em", "com",
    "pra", "pro", "para", "por", "pelo", "pela", "e", "ou", "que", "q", "eu", "me", "meu",
    "minha", "mais", "tbm", "tambem", "so", "foi", "era", "ser", "sao", "esse", "essa", "isso",
    "aquele", "ai", "the", "an", "on", "at", "for", "in", "of", "to", "with", "and", "or", "my",
    "i", "it", "that", "this", "was", "is", "from", "some", "more", "also", "just", "reais",
    "real", "r", "rs", "brl", "usd", "eur", "dolares", "dolar", "dollars", "dollar", "bucks",
    "conto", "contos", "pila", "hoje", "hj", "ontem", "anteontem", "amanha", "agora", "today",
    "yesterday", "tomorrow", "now", "dia", "day", "days", "semana", "week", "passada",
    "passado", "last", "mes", "month", "ano", "year", "antes", "before", "depois", "after",
    "manha", "tarde", "noite", "morning", "afternoon", "evening", "night", "segunda", "terca",
    "quarta", "quinta", "sexta", "sabado", "domingo", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "janeiro", "fevereiro", "marco", "abril",
    "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "pix", "cartao", "credito", "debito", "dinheiro",
    "especie", "boleto", "card", "cash", "credit", "debit", "transfer", "parcelado",
    "parcelada", "parcelas", "parcela", "vezes", "x", "em", "vista", "pfv", "pf", "por",
    "favor", "please", "pls", "ok", "blz"
))  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
# "o do mercado", "a internet", "the coffee one": a determiner, then the entry's name.
_NAMED = re.compile(r"\b(?:o|a|os|as|do|da|dos|das|the)\s+(?:(?:do|da|de|dos|das|of)\s+)?(\w{3,})")
_NOT_A_NAME = frozenset((
    "ultimo", "ultima", "ultimos", "last", "one", "ones", "lancamento", "lancamentos", "entry",
    "entries", "registro", "valor", "value", "amount", "gasto", "gastos", "expense", "expenses",
    "categoria", "category", "data", "date", "dia", "day", "verdade", "vdd", "mesmo", "mesma",
    "same", "previous", "anterior", "primeiro", "primeira", "first", "second", "segundo",
    "outro", "other", "conta", "contas", "compra", "compras", "coisa", "one", "pagamento",
    "payment", "bill", "ele", "ela", "isso", "esse", "essa", "este", "esta", "aquele", "aquela",
    "it", "this", "that"
))  # fmt: skip
# "apaga", "tira", "move": a request to remove or move an entry, which names it by its words.
_REMOVE_OR_MOVE = re.compile(
    r"\b(?:apag\w*|exclu\w*|delet\w*|remov\w*|tira|tirar|cancela|desfaz|esquece|move|mover"
    r"|passa|arruma|delete|erase|drop|undo)\b"
)
# Words that say what to do with an entry, never what it is.
_COMMANDS = frozenset((
    "apaga", "apague", "apagar", "exclui", "exclua", "excluir", "deleta", "deletar", "remove",
    "remover", "tira", "tirar", "cancela", "cancelar", "desfaz", "esquece", "corrige", "corrija",
    "arruma", "arrumar", "muda", "mude", "mudar", "troca", "troque", "trocar", "altera", "edita",
    "move", "passa", "delete", "erase", "fix", "change", "correct", "undo", "drop", "data",
    "valor", "categoria", "date", "amount", "category", "errado", "errada", "wrong", "ops",
    "opa", "actually", "vdd", "verdade", "nao", "not", "lancei", "anotei", "coloquei", "pera",
    "digitei", "escrevi", "mandei", "sorry", "oops", "typed", "errei", "errou", "erro", "fiz",
    "feito", "make", "eu", "quero", "queria", "pode", "podia"
))  # fmt: skip
# "nao era 75", "not 5": the amount a correction replaces, not the new one.
_WAS_NOT = re.compile(
    r"\b(?:nao|not|instead of)(?:\s+(?:era|foi|e|eh|is|was))?(?:\s+de)?(?:\s*r\$)?\s*$"
    # "o de 55", "the one for 40": the entry picked by its amount.
    r"|(?:^|\s)(?:o|a|the one)\s+(?:de|for|of)(?:\s*(?:r\$|us\$|\$))?\s*$"
)
_CORRECTION = re.compile(
    r"\b(?:errei|erro|corrig\w*|corrij\w*|arrum\w*|na vdd|na verdade|nao era|nao foi|actually"
    r"|fix\w*|wrong|mistake|not \d|digitei errado|escrevi errado)\b"
    # "o de 35 foi uber, não farmácia", "the 20 one was lunch": an entry named by its amount
    r"|^(?:o|a|the)\s+(?:de\s+)?(?:r\$\s*)?\d+(?:[.,]\d{2})?\s+(?:one\s+)?(?:foi|era|was|e|eh|is)\b"
    r"|,\s*(?:nao|not)\s+[^\W\d_]+\s*$"
)
_SUBJECT = re.compile(
    r"^(?:e\s+|and\s+|ah\s+|ops\s+)?(?:o|a|os|as|the)\s+(?:(?:do|da|de|dos|das|of)\s+)?\w{3,}"
)
_SPENDING = re.compile(r"\b(?:gastei|paguei|comprei|torrei|recebi|ganhei|spent|paid|bought)\b")


def description(text: str) -> str | None:
    """The person's own word(s) for an entry: what is left without amounts, verbs, time and
    payment words ("gastei 35 no ifood ontem" → "ifood")."""
    kept: list[str] = []
    for word in _WORD.findall(text.lower()):
        folded = fold(word)
        if folded in _FILLER or len(folded) < 2 or guess_payment_method(word) is not None:
            continue
        kept.append(word)
    return " ".join(kept[:4])[:200] or None


def named(text: str) -> str | None:
    """The words a correction names its entry by ("o do mercado foi 44" → "mercado")."""
    found = [
        word
        for word in _NAMED.findall(fold(text))
        if word not in _NOT_A_NAME and word not in _FILLER and guess_payment_method(word) is None
    ]
    if not found and _REMOVE_OR_MOVE.search(fold(text)):
        # "apaga o gasto com roupa", "exclui a conta de luz": the words left once the command,
        # the generic nouns and the fillers are gone.
        # What follows "pra", "para" or "to" is where it goes, not which entry it is.
        which_part = re.split(r"\b(?:pra|para|pro|to|into)\b", fold(text), maxsplit=1)[0]
        rest = (description(which_part) or "").split()
        found = [
            w
            for w in map(fold, rest)
            if len(w) >= 3 and w not in _COMMANDS and w not in _NOT_A_NAME
        ]
    return " ".join(dict.fromkeys(found)) or None


def corrects(text: str) -> bool:
    """A correction of something recorded rather than a new entry ("o ifood foi 53, errei")."""
    folded = fold(text)
    if _CORRECTION.search(folded):
        return True
    if _SPENDING.search(folded):
        return False
    # Without a word of correction, the entry must be what the sentence is about: named first
    # ("o do mercado foi 44", "a internet foi 120", "the coffee was 6"), not somewhere inside a
    # new statement ("uber to the airport was like 80 bucks").
    subject = _SUBJECT.match(folded)
    return (
        subject is not None
        and named(subject[0]) is not None
        and bool(re.search(r"\b(?:foi|era|was)\b", folded))
    )


def subject_named(text: str) -> bool:
    """Whether the message opens by naming an entry ("o mercado ...", "the salary ...")."""
    subject = _SUBJECT.match(fold(text))
    return subject is not None and named(subject[0]) is not None


def new_and_old(text: str) -> tuple[Decimal | None, Decimal | None]:
    """The amount a correction sets, and the one it replaces when said ("not 5")."""
    new: Decimal | None = None
    old: Decimal | None = None
    taken: list[tuple[int, int]] = []
    for amount in find_amounts(text, money_hint=True):
        taken.append(amount.span)
        if _WAS_NOT.search(fold(text[: amount.span[0]])):
            old = old or amount.value
        elif new is None:
            new = amount.value
    if new is None and old is not None:
        # "was 6 not 5": in a correction, the other plain number is the new amount.
        for number in _PLAIN_NUMBER.finditer(text):
            if not any(a <= number.start() < b for a, b in taken):
                new = Decimal(number[0].replace(".", "").replace(",", ".")).quantize(
                    Decimal("0.01")
                )
                break
    return new, old


_PLAIN_NUMBER = re.compile(r"(?<![\w.,/])\d{1,7}(?:,\d{1,2})?(?![\w/])")


def described_by(description: str | None, words: list[str]) -> bool:
    """Whether an entry's own description says one of ``words`` ("farmacia" names "farmácia
    do centro"; "uber" names "uber pro trabalho")."""
    said = [w for w in _WORD.findall(fold(description or "")) if len(w) >= 3]
    wanted = [fold(w) for w in words if len(w) >= 3]
    return any(w.startswith(x) or x.startswith(w) for w in said for x in wanted if len(w) >= 3)


# Words of a question, never an entry's own name ("quanto gastei com uber?": uber).
_ASKING = frozenset((
    "quanto", "qnto", "qto", "quantos", "qual", "quais", "foi", "foram", "meu", "meus",
    "minha", "minhas", "como", "quando", "onde", "total", "gastei", "gastou", "recebi",
    "paguei", "esse", "este", "nesse", "neste", "desse", "deste", "how", "much", "many", "did",
    "what", "which", "when", "where", "spend", "spent", "total", "tudo", "all", "ate", "agora",
    "semana", "mes", "ano", "passada", "passado", "ultimo", "ultima", "ultimos", "ultimas",
    "com", "maior", "maiores", "gasto", "gastos", "despesa", "despesas", "entrada", "entradas",
))  # fmt: skip


def asked_words(text: str) -> list[str]:
    """The words a question names its entries by, if any ("e com uber?": ["uber"])."""
    words = [w for w in _WORD.findall(fold(text)) if len(w) >= 3]
    return [w for w in words if w not in _FILLER and w not in _ASKING][:8]
