"""How the words a customer writes are matched against product names: folded, without the
words that only say how someone asks, and in the singular."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from whatsapp_ai.core.text import fold
from whatsapp_ai.sales.errors import AmbiguousProductError, ProductNotFoundError

# Words that say how someone asks, not what they want (PT and EN, folded).
_STOPWORDS = """
    a o as os um uma uns umas de da do das dos e em no na nos nas num numa para pra pro pros
    com sem por pelo pela que qual quais quanto quanta quantos quantas custa custam preco precos
    valor valores tem teem tenho voce voces vcs vc eu me mim meu minha meus minhas quero queria
    gostaria vou querer levar comprar compra ver mostra mostrar manda mandar adiciona adicionar
    coloca colocar inclui incluir bota botar mais ai aqui ali produto produtos catalogo opcao
    opcoes item itens pedido carrinho isso esse essa este esta estes estas algum alguma alguns
    algumas tb tambem so favor vende vendem venda estoque disponivel disponiveis ainda tira
    tirar remove remover diminui diminuir muda mudar ate tamanho tamanhos cor cores modelo
    modelos sabor sabores ha la ja oi ola bom boa dia tarde noite obrigado obrigada
    the an of and or in on at to for with without my me i ll d s t want like would take add
    put buy get show send what which how much many is are do does you your have has sell any
    some more another please cart order product products catalog catalogue items available
    stock price prices cost costs size sizes color colors colour colours hi hello there can
    pode poderia ve quer vai nao desisti cancela cancelar agora tudo sim tbm from out off
    don dont anymore just also too need deixa deixar
    dois duas tres quatro cinco seis sete oito nove dez two three four five six seven eight
    nine ten
    """
STOPWORDS = frozenset(_STOPWORDS.split())


def stem(word: str) -> str:
    """A word without its plural ending, so "camisetas" finds "Camiseta" (and "paes" "pao")."""
    if len(word) <= 3 or not word.endswith("s") or word.isdigit():
        return word
    for suffix, replacement in (("oes", "ao"), ("aes", "ao"), ("ns", "m")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)] + replacement
    return word[:-1]


def terms(value: str) -> list[str]:
    """The words of a text that name something, folded and in the singular."""
    found = []
    for word in re.findall(r"[a-z0-9]+", fold(value)):
        if word not in STOPWORDS and (stemmed := stem(word)) not in found:
            found.append(stemmed)
    return found


def same(wanted: str, word: str) -> bool:
    """Whether a searched word and a name's word are the same word."""
    if wanted == word:
        return True
    # "store"/"stores" style endings the stemmer leaves apart; never "bone" for "boneca".
    short, long = sorted((wanted, word), key=len)
    return len(short) >= 4 and len(long) - len(short) <= 1 and long.startswith(short)


def hits(wanted: Sequence[str], words: Iterable[str]) -> int:
    """How many of the searched words are among ``words``."""
    pool = list(words)
    return sum(1 for term in wanted if any(same(term, word) for word in pool))


def pick[T](wanted: Sequence[str], query: str, options: Sequence[tuple[T, str]]) -> T:
    """The one option whose name best matches ``wanted``; else not found or ambiguous."""
    scored = [(hits(wanted, terms(name)), item, name) for item, name in options]
    best = max((count for count, _, _ in scored), default=0)
    if best == 0:
        raise ProductNotFoundError(query)
    top = [(item, name) for count, item, name in scored if count == best]
    if len(top) == 1:
        return top[0][0]
    exact = [item for item, name in top if sorted(terms(name)) == sorted(wanted)]
    if len(exact) == 1:
        return exact[0]
    raise AmbiguousProductError(query, [name for _, name in top])
