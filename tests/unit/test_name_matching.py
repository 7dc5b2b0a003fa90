"""Products and people found by what a customer or contact types: the words first, the closest
spelling when the words find nothing or tie, and a question when two names stay alike."""

from __future__ import annotations

import pytest

from whatsapp_ai.core.text import fold_key
from whatsapp_ai.relationships.models import Person
from whatsapp_ai.relationships.names import by_name, match_people
from whatsapp_ai.sales.errors import AmbiguousProductError, ProductNotFoundError
from whatsapp_ai.sales.matching import pick, terms

CATALOG = [
    "Bolo de Chocolate",
    "Bolo de Cenoura",
    "Brigadeiro",
    "Camiseta Básica Preta",
    "Camiseta Básica Branca",
    "Pão de Queijo",
]


def _pick(query: str) -> str:
    return pick(terms(query), query, [(name, name) for name in CATALOG])


@pytest.mark.parametrize(
    ("query", "product"),
    [
        ("2 brigadeiros", "Brigadeiro"),  # the words alone
        ("brigadero", "Brigadeiro"),  # no word hits: the closest spelling
        ("pao de qeijo", "Pão de Queijo"),
        ("bolo de choclate", "Bolo de Chocolate"),  # "bolo" ties: spelling settles it
        ("camizeta preta", "Camiseta Básica Preta"),
    ],
)
def test_a_product_is_found_by_its_words_or_its_closest_spelling(query: str, product: str) -> None:
    assert _pick(query) == product


def test_alike_products_are_asked_about_and_unknown_ones_not_found() -> None:
    with pytest.raises(AmbiguousProductError) as tied:
        _pick("bolo")
    assert sorted(tied.value.names) == ["Bolo de Cenoura", "Bolo de Chocolate"]
    with pytest.raises(AmbiguousProductError) as alike:
        _pick("camizeta")
    assert sorted(alike.value.names) == ["Camiseta Básica Branca", "Camiseta Básica Preta"]
    with pytest.raises(ProductNotFoundError):
        _pick("pizza")


PEOPLE = [
    Person(name=name, name_key=fold_key(name))
    for name in ("Fernanda Lima", "João Pedro", "João Silva", "Letícia", "Paula Reis")
]


def _names(query: str) -> list[str]:
    return sorted(person.name for person in match_people(PEOPLE, query))


def test_a_person_is_found_by_name_word_start_or_closest_spelling() -> None:
    assert _names("joão pedro") == ["João Pedro"]
    assert _names("Lima") == ["Fernanda Lima"]
    assert _names("Fernada") == ["Fernanda Lima"]
    assert _names("Letisia") == ["Letícia"]
    assert by_name(PEOPLE, "Fernada") == []  # the words alone miss the typo


def test_alike_people_are_all_given_so_the_contact_is_asked() -> None:
    assert _names("Joao") == ["João Pedro", "João Silva"]
    assert _names("Joao Sliva") == ["João Silva"]


def test_a_name_in_the_other_gender_or_far_off_is_no_one_saved() -> None:
    assert _names("Fernando") == []
    assert _names("Paulo") == []
    assert _names("Roberto") == []
    assert _names("?!") == []
