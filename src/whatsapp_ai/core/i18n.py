"""Texts the product says to people, one catalogue per language (``locales/<lang>.toml``).

Code names a text by key ("finance.recorded") and passes its values; the catalogue of the
contact's language holds the words. Adding a language is adding a file with every key (a test
checks that each catalogue has the same keys and the same placeholders). A language without a
catalogue falls back to ``FALLBACK``.

Keys that depend on a count come in two forms, ``<key>.one`` and ``<key>.other``: ``plural``
picks one.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

FALLBACK = "en"
_PACKAGE = "whatsapp_ai"
_FOLDER = "locales"


@cache
def languages() -> tuple[str, ...]:
    """The languages with a catalogue, sorted."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        )
    )


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every text of a language by its dotted key (sections of the file become prefixes)."""
    source = resources.files(_PACKAGE).joinpath(_FOLDER, f"{language}.toml").read_text("utf-8")
    flat: dict[str, str] = {}
    _flatten(tomllib.loads(source), "", flat)
    return flat


def resolve(language: str | None) -> str:
    """The catalogue a contact's language uses ("pt-BR" → "pt"; unknown → the fallback)."""
    base = (language or "").split("-")[0].split("_")[0].lower()
    return base if base in languages() else FALLBACK


def text(language: str | None, key: str, /, **values: Any) -> str:
    """The text ``key`` in ``language`` with ``values`` filled in; KeyError for an unknown key."""
    return catalogue(resolve(language))[key].format(**values)


def plural(language: str | None, key: str, count: int, /, **values: Any) -> str:
    """``text`` of ``<key>.one`` when ``count`` is 1, else ``<key>.other`` (``count`` passed)."""
    form = "one" if count == 1 else "other"
    return text(language, f"{key}.{form}", count=count, **values)


def _flatten(table: dict[str, Any], prefix: str, into: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            _flatten(value, f"{key}.", into)
        elif isinstance(value, str):
            into[key] = value
        else:
            raise TypeError(f"catalogue value of {key!r} must be text, not {type(value).__name__}")
