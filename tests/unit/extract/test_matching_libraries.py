"""Catalog and person matching on the labelled lookups, against `rapidfuzz` alone.

Per set: the own word matcher (folded words, stopwords, singular; for people the whole name or
a word's start), `rapidfuzz` alone (``WRatio`` with a cutoff, on the same folded words), the own
matcher with `rapidfuzz` when it finds nothing, and the shipped matcher: for products
`rapidfuzz` also settles the names the words tie on ("bolo de choclate"), for people it never
offers a name's other gender ("Fernando" for Fernanda). Run with ``-s`` to see the table (the
figures are in the README's extraction paragraph; bench/matching.py times them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tests.unit.extract.labelled_matching import (
    AMBIGUOUS,
    CATALOG,
    PEOPLE,
    PERSON_QUERIES,
    PRODUCT_QUERIES,
)
from whatsapp_ai.core.fuzzy import closest
from whatsapp_ai.core.text import fold_key
from whatsapp_ai.relationships.models import Person
from whatsapp_ai.relationships.names import by_name, match_people
from whatsapp_ai.sales.errors import AmbiguousProductError, ProductNotFoundError
from whatsapp_ai.sales.matching import best_by_spelling, best_by_words, pick, terms

Matcher = Callable[[str], str | None]
SAVED = [Person(name=name, name_key=fold_key(name)) for name in PEOPLE]


def _one(names: Sequence[str]) -> str | None:
    """A matcher's answer as the labels write it."""
    if not names:
        return None
    return names[0] if len(names) == 1 else AMBIGUOUS


def own_product(query: str) -> str | None:
    return _one([CATALOG[i] for i in best_by_words(terms(query), CATALOG)])


def rapidfuzz_product(query: str) -> str | None:
    return _one([CATALOG[i] for i in best_by_spelling(terms(query), CATALOG)])


def shipped_product(query: str) -> str | None:
    try:
        return pick(terms(query), query, [(name, name) for name in CATALOG])
    except ProductNotFoundError:
        return None
    except AmbiguousProductError:
        return AMBIGUOUS


def own_person(query: str) -> str | None:
    return _one([person.name for person in by_name(SAVED, query)])


def rapidfuzz_person(query: str) -> str | None:
    return _one([PEOPLE[i] for i in closest(fold_key(query), [p.name_key for p in SAVED])])


def shipped_person(query: str) -> str | None:
    return _one([person.name for person in match_people(SAVED, query)])


def only_when_none(own: Matcher, library: Matcher) -> Matcher:
    """The own matcher, and the library only when the own one finds nothing."""
    return lambda query: found if (found := own(query)) is not None else library(query)


PRODUCT_MATCHERS: dict[str, Matcher] = {
    "own words": own_product,
    "rapidfuzz": rapidfuzz_product,
    "own, rapidfuzz if none": only_when_none(own_product, rapidfuzz_product),
    "own, then rapidfuzz (kept)": shipped_product,
}
PERSON_MATCHERS: dict[str, Matcher] = {
    "own words": own_person,
    "rapidfuzz": rapidfuzz_person,
    "own, rapidfuzz if none": only_when_none(own_person, rapidfuzz_person),
    "own, then rapidfuzz (kept)": shipped_person,
}


def score(matcher: Matcher, cases: Sequence[tuple[str, str | None]]) -> int:
    return sum(matcher(query) == expected for query, expected in cases)


def table() -> str:
    """The right lookups of each matcher on each labelled set."""
    lines = [f"{'matcher':28} {'products':>9} {'people':>7}"]
    for name in PRODUCT_MATCHERS:
        products = score(PRODUCT_MATCHERS[name], PRODUCT_QUERIES)
        people = score(PERSON_MATCHERS[name], PERSON_QUERIES)
        lines.append(
            f"{name:28} {products:>5}/{len(PRODUCT_QUERIES)} {people:>4}/{len(PERSON_QUERIES)}"
        )
    return "\n".join(lines)


def test_kept_product_matcher_is_the_best_of_the_three() -> None:
    print("\n" + table())
    scores = {name: score(m, PRODUCT_QUERIES) for name, m in PRODUCT_MATCHERS.items()}
    kept = scores.pop("own, then rapidfuzz (kept)")
    assert kept >= max(scores.values())
    assert kept > scores["own words"]


def test_kept_person_matcher_is_the_best_of_the_three() -> None:
    scores = {name: score(m, PERSON_QUERIES) for name, m in PERSON_MATCHERS.items()}
    kept = scores.pop("own, then rapidfuzz (kept)")
    assert kept >= max(scores.values())
    assert kept > scores["own words"]
