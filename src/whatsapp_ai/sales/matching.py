"""How the words a customer writes are matched against product names: folded, without the
words that only say how someone asks, and in the singular; the closest spelling when the words
alone find nothing or cannot tell two products apart."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from whatsapp_ai.core.fuzzy import closest
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


def best_by_words(wanted: Sequence[str], names: Sequence[str]) -> list[int]:
    """Indexes of the names holding the most searched words (one, if only one has exactly
    those words); none when no word is in any name."""
    counts = [hits(wanted, terms(name)) for name in names]
    best = max(counts, default=0)
    if best == 0:
        return []
    top = [index for index, count in enumerate(counts) if count == best]
    exact = [index for index in top if sorted(terms(names[index])) == sorted(wanted)]
    return exact if len(top) > 1 and len(exact) == 1 else top


def best_by_spelling(wanted: Sequence[str], names: Sequence[str]) -> list[int]:
    """Indexes of the names closest in spelling to the searched words (typos, cut words)."""
    return closest(" ".join(wanted), [" ".join(terms(name)) for name in names])


def pick[T](wanted: Sequence[str], query: str, options: Sequence[tuple[T, str]]) -> T:
    """The one option whose name best matches ``wanted``; else not found or ambiguous.

    The words decide first; when no name has them ("brigadero") or several have them alike
    ("bolo de choclate"), the closest spelling among those names decides, if one stands out."""
    names = [name for _, name in options]
    found = best_by_words(wanted, names)
    if len(found) == 1:
        return options[found[0]][0]
    pool = found or list(range(len(names)))
    near = best_by_spelling(wanted, [names[index] for index in pool])
    if len(near) == 1:
        return options[pool[near[0]]][0]
    tied = [pool[index] for index in near] or found
    if not tied:
        raise ProductNotFoundError(query)
    raise AmbiguousProductError(query, [names[index] for index in tied])
