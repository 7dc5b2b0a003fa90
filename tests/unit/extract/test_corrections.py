"""A note corrected by the words that fix it."""

from __future__ import annotations

import pytest

from whatsapp_ai.ai.extract.corrections import correction_words, revise

CASES = [
    # shared words anchor the correction; what follows them is replaced
    (
        "a Julia se mudou pra Curitiba",
        "na vdd foi pra Floripa",
        "Julia",
        "a Julia se mudou pra Floripa",
    ),
    ("o Joao me deve 50 conto", "na vdd ele me deve 80", "Joao", "o Joao me deve 80 conto"),
    (
        "trabalha na Globo há 5 anos",
        "na verdade trabalha na Natura",
        "Bia",
        "trabalha na Natura há 5 anos",
    ),
    ("Tom lives in Boston", "actually he lives in Denver", "Tom", "Tom lives in Denver"),
    ("vai casar em junho", "opa, em julho", "Pedro", "vai casar em julho"),
    ("é designer", "na vdd e dentista", "Bia", "é dentista"),
    # "X, não Y": Y is what was wrong
    ("gosta de café", "errei, ela gosta de chá, não de café", "Paula", "gosta de chá"),
    (
        "se mudou pra Curitiba",
        "na vdd ela mudou pra Floripa, nao Curitiba",
        "Julia",
        "se mudou pra Floripa",
    ),
    # a word or two: the most alike word, else the last name-like one
    ("a Julia se mudou pra Curtiba", "*Curitiba", "Julia", "a Julia se mudou pra Curitiba"),
    ("a Julia se mudou pra Curitiba", "Floripa*", "Julia", "a Julia se mudou pra Floripa"),
    # nothing shared: the correction is the note now
    ("trabalha na Globo", "nao, ela e da Natura", "Bia", "Bia e da Natura"),
]  # fmt: skip


@pytest.mark.parametrize(("note", "correction", "subject", "expected"), CASES)
def test_a_note_is_revised_by_its_correction(
    note: str, correction: str, subject: str, expected: str
) -> None:
    assert revise(note, correction, subject) == expected


def test_the_words_that_only_say_it_is_a_correction_are_dropped() -> None:
    assert correction_words("na vdd, ela foi pra Floripa") == "foi pra Floripa"
    assert correction_words("opa, a Julia foi pra Floripa", "Julia") == "foi pra Floripa"
    assert correction_words("*quinta") == "quinta"
    assert revise("gosta de café", "na vdd") == "gosta de café"
