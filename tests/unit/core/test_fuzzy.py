"""Closest spelling: one text when it stands out, several when alike, none when far."""

from __future__ import annotations

from whatsapp_ai.core.fuzzy import closest

NAMES = ["brigadeiro", "beijinho", "bolo chocolate", "bolo cenoura"]


def test_a_typo_finds_the_one_name_it_misspells() -> None:
    assert closest("brigadero", NAMES) == [0]
    assert closest("bejinho", NAMES) == [1]


def test_words_two_names_share_alike_give_both_best_first() -> None:
    assert sorted(closest("bolo", NAMES)) == [2, 3]


def test_nothing_close_or_nothing_typed_finds_nothing() -> None:
    assert closest("pizza", NAMES) == []
    assert closest("  ", NAMES) == []
    assert closest("bolo", []) == []


def test_the_cutoff_and_margin_can_be_tightened() -> None:
    assert closest("brigadero", NAMES, cutoff=99) == []
    assert closest("bolo chocolate", NAMES, margin=0) == [2]
