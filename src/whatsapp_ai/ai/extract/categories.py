"""The category and the payment method of an expense or income, from its keywords (PT and EN).

Keywords are matched on whole words, ignoring case and accents. When several match, the strongest
wins, then the longest ("mercado livre" is shopping, not groceries; "uber eats" is restaurants, not
transport; "conta de luz" is housing, not bills), then the first. Weak keywords are the ones that
often mean something else ("água" is bought at the market, "show" is also praise, "conta" is any
bill, "cartão" may be debit): they decide only when nothing stronger is there.

Decisions on the ambiguous cases:

- Utilities (luz, água, gás, internet) are housing; bills are the rest of what arrives monthly or
  yearly (phone, taxes, insurance, fees, fines).
- "gás" with its accent, "botijão" and "gás de cozinha" are housing; "gas" without an accent is
  fuel (transport) in an English message and cooking gas (housing) otherwise.
- "99" is the ride app only as a name: "na 99", "de 99", "99 pop", "99taxi"; never a number of
  reais.
- "feira" is the street market, except in weekday names ("segunda-feira").
- "dinheiro" alone is not a payment method ("quanto dinheiro gastei"); "em dinheiro", "no
  dinheiro", "dinheiro vivo", "em espécie" and "cash" are. "cartão" alone is the credit card, the
  usual meaning in Brazil; "débito" wins over it. A transfer word gives way to the rail it names
  ("transferi via pix" is Pix); "TED" and "DOC" are transfers.
- A message with no keyword has no category (None), for the caller to ask or to use OTHER;
  "outros", "diversos", "misc" choose OTHER explicitly.
- TRANSFER has no keywords and is never guessed: a transfer word says how the money moved (the
  payment method), not what it was for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz.distance import OSA

from whatsapp_ai.ai.extract._text import fold
from whatsapp_ai.core.vocabulary import Category, PaymentMethod

STRONG, WEAK = 2, 1

# Folded keywords; a trailing "*" means the word may go on ("remedio*" finds "remédios").
_TYPO_MIN_KEYWORD = 6
CATEGORY_KEYWORDS: dict[Category, tuple[str, ...]] = {
    Category.GROCERIES: (
        "mercado", "supermercado", "feira", "padaria", "hortifruti", "sacolao", "acougue",
        "atacadao", "assai", "carrefour", "compras do mes", "rancho", "grocery", "groceries",
        "supermarket", "walmart", "costco", "bakery",
    ),
    Category.RESTAURANTS: (
        "restaurante*", "lanche*", "lanchonete", "ifood", "uber eats", "rappi", "almoco",
        "almocei", "jantar", "jantei", "janta", "pizza*", "hamburguer*", "burger*", "mcdonalds",
        "mc donalds", "burger king", "sushi", "cafeteria", "acai", "pastel", "churrascaria",
        "restaurant*", "lunch", "dinner", "breakfast", "takeout", "doordash", "starbucks",
        "rodizio", "marmita", "quentinha", "boteco", "buteco", "self service",
    ),
    Category.TRANSPORT: (
        "uber", "cabify", "taxi", "gasolina", "combustivel", "etanol", "abasteci", "posto",
        "onibus", "metro", "trem", "estacionamento", "pedagio", "bilhete unico",
        "passagem de onibus",
        "fuel", "gasoline", "petrol", "gas station", "parking", "toll", "bus", "subway", "train",
        "lyft", "cab", "gasosa", "conserto do carro", "revisao do carro", "pneu*", "99 pop",
        "car repair",
    ),
    Category.HOUSING: (
        "aluguel", "condominio", "luz", "conta de luz", "energia", "eletricidade",
        "conta de agua", "internet", "wifi", "gas de cozinha", "botijao", "iptu", "rent",
        "mortgage", "electricity", "power bill", "water bill", "utilities",
    ),
    Category.HEALTH: (
        "farmacia", "drogaria", "remedio*", "medicamento*", "medico", "medica", "dentista",
        "plano de saude", "hospital", "clinica", "exame*", "psicolog*", "terapia", "fisioterapia",
        "academia", "pharmacy", "drugstore", "medicine", "doctor", "dentist", "health insurance",
        "therapy", "gym",
    ),
    Category.EDUCATION: (
        "escola", "faculdade", "universidade", "curso*", "mensalidade escolar", "material escolar",
        "apostila*", "udemy", "alura", "coursera", "school", "college", "university", "course*",
        "tuition", "textbook*",
    ),
    Category.ENTERTAINMENT: (
        "cinema", "netflix", "spotify", "teatro", "ingresso*", "balada", "steam", "playstation",
        "xbox", "disney", "hbo", "airbnb", "prime video", "youtube premium", "deezer", "globoplay",
        "movie*", "concert*", "videogame*",
    ),
    Category.SHOPPING: (
        "roupa*", "sapato*", "tenis", "camisa*", "camiseta*", "calca*", "vestido*", "amazon",
        "shopee", "shein", "mercado livre", "aliexpress", "magalu", "americanas", "shopping",
        "clothes", "shoes", "shirt*", "sneakers",
    ),
    Category.BILLS: (
        "conta de telefone", "conta de celular", "plano de celular", "telefone", "fatura do cartao",
        "imposto*", "ipva", "multa*", "tarifa*", "anuidade", "juros", "phone bill", "tax", "taxes",
        "insurance", "late fee",
    ),
    Category.SALARY: (
        "salario", "holerite", "contracheque", "decimo terceiro", "13o salario", "salary",
        "paycheck", "payday", "wage*",
    ),
    Category.FREELANCE: (
        "freela*", "freelance*", "bico", "consultoria", "trampo extra", "side gig", "gig",
        "contract work",
    ),
    Category.OTHER: ("outros", "outras despesas", "diversos", "misc", "miscellaneous"),
}  # fmt: skip
# The one-word strong keywords, as typos of them are looked for.
_SINGLE_WORDS = tuple(
    (category, keyword.rstrip("*"))
    for category, keywords in CATEGORY_KEYWORDS.items()
    for keyword in keywords
    if " " not in keyword and len(keyword.rstrip("*")) >= _TYPO_MIN_KEYWORD
)
WEAK_CATEGORY_KEYWORDS: dict[Category, tuple[str, ...]] = {
    Category.RESTAURANTS: ("cafe", "bar", "delivery", "comida", "food", "coffee"),
    Category.TRANSPORT: ("passagem", "oficina", "mecanico"),
    Category.HOUSING: ("agua", "gas", "net"),
    Category.HEALTH: ("consulta",),
    Category.EDUCATION: ("livro*", "mensalidade", "books"),
    Category.ENTERTAINMENT: ("show", "festa", "jogo*", "game*", "viagem", "hotel", "trip", "party"),
    Category.SHOPPING: ("loja", "presente*", "gift*", "store"),
    Category.BILLS: ("conta", "fatura", "taxa*", "seguro", "celular", "bill", "fee*"),
    Category.FREELANCE: ("job", "projeto", "project"),
}
PAYMENT_KEYWORDS: dict[PaymentMethod, tuple[str, ...]] = {
    PaymentMethod.PIX: ("pix",),
    PaymentMethod.BOLETO: ("boleto*", "bank slip"),
    PaymentMethod.DEBIT_CARD: ("cartao de debito", "no debito", "debito", "debit card", "debit"),
    PaymentMethod.CREDIT_CARD: (
        "cartao de credito", "no credito", "credito", "parcelado", "parcelei", "credit card",
        "credit", "em [0-9]+x",
    ),
    PaymentMethod.CASH: (
        "em dinheiro", "no dinheiro", "dinheiro vivo", "em especie", "especie", "cash",
    ),
    PaymentMethod.TRANSFER: ("ted", "doc", "bank transfer", "wire transfer"),
}  # fmt: skip
WEAK_PAYMENT_KEYWORDS: dict[PaymentMethod, tuple[str, ...]] = {
    PaymentMethod.CREDIT_CARD: ("cartao", "card"),
    PaymentMethod.TRANSFER: (
        "transferencia", "transferi", "transferido", "transfer", "transferred", "wire",
    ),
}  # fmt: skip

# Blanked out before matching: words that contain a keyword but mean something else.
_MASK = re.compile(
    r"\b(?:segunda|terca|quarta|quinta|sexta)[- ]feira\b|\bmercado pago\b|\bconta corrente\b"
    r"|\bconta (?:no|do|da) (?:banco|nubank|itau|inter)\b|\bshow de bola\b"
)
# The ride app: a name, not the number.
_NINETY_NINE = re.compile(
    r"\b99\s?(?:pop|taxi|taxis|app)\b|(?<![\d.,$])\b(?:na|da|de|no|pela|pelo|com a)\s+99\b"
    r"(?!\s*(?:reais|real|conto|contos|dolares|bucks|%|,\d|\.\d))"
)
_ENGLISH = re.compile(r"\b(?:the|on|for|spent|paid|bought|i|my|at|filled)\b")
_GAS_HOUSING = re.compile(r"gás|gas de cozinha|botij", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Hit:
    weight: int
    length: int
    start: int


def _keyword_pattern(keyword: str) -> str:
    body = re.escape(keyword.rstrip("*")).replace(r"\[0\-9\]\+", "[0-9]+")
    body = body.replace("\\ ", r"\s+")
    return rf"(?<![\w-]){body}{r'\w*' if keyword.endswith('*') else ''}(?!\w)"


@cache
def _compiled(keyword: str) -> re.Pattern[str]:
    return re.compile(_keyword_pattern(keyword))


def _best[T](
    folded: str, strong: dict[T, tuple[str, ...]], weak: dict[T, tuple[str, ...]]
) -> tuple[T, _Hit] | None:
    best: tuple[T, _Hit] | None = None
    for weight, table in ((STRONG, strong), (WEAK, weak)):
        for label, keywords in table.items():
            for keyword in keywords:
                for match in _compiled(keyword).finditer(folded):
                    hit = _Hit(weight, match.end() - match.start(), match.start())
                    if best is None or (hit.weight, hit.length, -hit.start) > (
                        best[1].weight,
                        best[1].length,
                        -best[1].start,
                    ):
                        best = (label, hit)
    return best


def _masked(text: str) -> str:
    folded = fold(text)
    return _MASK.sub(lambda m: " " * len(m.group()), folded)


# "cafezinho", "freelinha", "lanchinho": a word made small, and what it was before.
_DIMINUTIVE = re.compile(r"\b(\w{2,}?)z?inh([oa])s?\b")


def guess_category(text: str) -> Category | None:
    """The category the text's keywords point to, or None (see the module docstring)."""
    folded = _masked(text)
    best = _best(folded, CATEGORY_KEYWORDS, WEAK_CATEGORY_KEYWORDS)
    for ending in (r"\2", "e", ""):
        if best is not None:
            break
        plain = _DIMINUTIVE.sub(rf"\1{ending}", folded)
        if plain != folded:
            best = _best(plain, CATEGORY_KEYWORDS, WEAK_CATEGORY_KEYWORDS)
    ride = _NINETY_NINE.search(folded)
    if ride and (best is None or best[1].weight < STRONG):
        return Category.TRANSPORT
    if best is None:
        return _misspelt(folded)
    category, hit = best
    if category is Category.HOUSING and folded[hit.start : hit.start + hit.length] == "gas":
        written = text[hit.start : hit.start + hit.length + 12]
        if not _GAS_HOUSING.match(written) and _ENGLISH.search(folded):
            return Category.TRANSPORT
    return category


# A word this long may carry one typo ("mercaod", "farmacai", "gasolian").
_TYPO_MIN = 6


def _misspelt(folded: str) -> Category | None:
    """The category of a strong keyword one typo away from a word of the text (a swapped,
    missing, extra or wrong letter), when exactly one category has such a keyword."""
    found: set[Category] = set()
    for word in re.findall(r"[a-z]+", folded):
        if len(word) < _TYPO_MIN:
            continue
        for category, keyword in _SINGLE_WORDS:
            if abs(len(keyword) - len(word)) <= 1 and OSA.distance(word, keyword) == 1:
                found.add(category)
    return found.pop() if len(found) == 1 else None


def guess_payment_method(text: str) -> PaymentMethod | None:
    """How the text says the money was paid or received, or None."""
    best = _best(_masked(text), PAYMENT_KEYWORDS, WEAK_PAYMENT_KEYWORDS)
    return best[0] if best else None
