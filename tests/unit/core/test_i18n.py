"""The text catalogues: every language says the same things, and the code names only texts that
exist."""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter

import pytest

import whatsapp_ai
from whatsapp_ai.core.i18n import FALLBACK, catalogue, languages, plural, resolve, text

SOURCE = Path(whatsapp_ai.__file__).parent
_FUNCTIONS = {"text", "plural"}


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field is not None}


def _calls() -> list[tuple[str, int, str, str, set[str] | None]]:
    """Each ``text(lang, "key", ...)`` / ``plural(lang, "key", n, ...)`` call with a literal key in
    the source: (file, line, function, key, keyword names or None when ``**values`` is passed)."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in _FUNCTIONS:
                name = func.id
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in _FUNCTIONS
                and isinstance(func.value, ast.Name)
                and func.value.id == "i18n"
            ):
                name = func.attr
            else:
                continue
            key = node.args[1]
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            spread = any(keyword.arg is None for keyword in node.keywords)
            names = None if spread else {k.arg for k in node.keywords if k.arg is not None}
            where = str(path.relative_to(SOURCE.parent))
            found.append((where, node.lineno, name, key.value, names))
    return found


def test_there_are_catalogues_and_the_fallback_is_one_of_them() -> None:
    assert {"pt", "en"} <= set(languages())
    assert FALLBACK in languages()


@pytest.mark.parametrize("language", [lang for lang in languages() if lang != FALLBACK])
def test_every_catalogue_has_the_same_keys_and_placeholders(language: str) -> None:
    reference, other = catalogue(FALLBACK), catalogue(language)
    assert sorted(set(reference) - set(other)) == [], f"missing in {language}.toml"
    assert sorted(set(other) - set(reference)) == [], f"missing in {FALLBACK}.toml"
    differ = {
        key: (sorted(_placeholders(reference[key])), sorted(_placeholders(other[key])))
        for key in reference
        if _placeholders(reference[key]) != _placeholders(other[key])
    }
    assert differ == {}


@pytest.mark.parametrize("language", languages())
def test_plural_keys_come_in_one_and_other_pairs(language: str) -> None:
    keys = set(catalogue(language))
    for key in keys:
        stem, _, form = key.rpartition(".")
        # ("formats.category.other" is the category named "other", not a plural form.)
        if form == "one":
            assert f"{stem}.other" in keys, key


def test_every_key_the_source_names_exists_with_the_values_it_needs() -> None:
    calls = _calls()
    assert calls, "no text(...) call with a literal key found: the scan is broken"
    texts = catalogue(FALLBACK)
    problems = []
    for where, line, function, key, names in calls:
        forms = [f"{key}.one", f"{key}.other"] if function == "plural" else [key]
        for form in forms:
            if form not in texts:
                problems.append(f"{where}:{line}: {form} is not in the catalogue")
            elif names is not None:
                given = names | ({"count"} if function == "plural" else set())
                if missing := _placeholders(texts[form]) - given:
                    problems.append(f"{where}:{line}: {form} needs {sorted(missing)}")
    assert problems == []


def test_an_unknown_language_falls_back_to_english() -> None:
    assert FALLBACK == "en"
    for language in ("fr", "es-ES", "", None):
        assert resolve(language) == "en"
        assert text(language, "guard.pretend") == catalogue("en")["guard.pretend"]


@pytest.mark.parametrize("language", ["pt-BR", "pt_BR", "PT", "pt"])
def test_a_regional_portuguese_resolves_to_portuguese(language: str) -> None:
    assert resolve(language) == "pt"
    assert text(language, "guard.pretend") == catalogue("pt")["guard.pretend"]


def test_plural_picks_the_form_by_count(monkeypatch: pytest.MonkeyPatch) -> None:
    forms = {"x.one": "{count} item", "x.other": "{count} itens"}
    monkeypatch.setitem(catalogue("pt"), "x.one", forms["x.one"])
    monkeypatch.setitem(catalogue("pt"), "x.other", forms["x.other"])
    assert plural("pt", "x", 1) == "1 item"
    assert plural("pt", "x", 0) == "0 itens"
    assert plural("pt", "x", 3) == "3 itens"
