"""Relative days as people type them on a phone: abbreviations, typos, no accents, "q vem"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from whatsapp_ai.ai.extract.dates import find_when

SAO_PAULO = "America/Sao_Paulo"
# A Wednesday.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo(SAO_PAULO))


def _first(text: str) -> tuple[str, str, str]:
    found = find_when(text, now=NOW, tz=SAO_PAULO)
    assert found, text
    when = found[0]
    shown = f"{when.start:%Y-%m-%d %H:%M}" if when.has_time else f"{when.start:%Y-%m-%d}"
    return when.kind, shown, text[when.span[0] : when.span[1]]


TYPED = [
    ("gastei 30 hj no mercado", ("day", "2026-03-04", "hj")),
    ("quanto gastei hj", ("day", "2026-03-04", "hj")),
    ("hj a noite tenho jantar", ("instant", "2026-03-04 20:00", "hj a noite")),
    ("me lembra amnh de pagar a luz", ("day", "2026-03-05", "amnh")),
    ("me lembra amnh as 9 de ligar", ("instant", "2026-03-05 09:00", "amnh as 9")),
    ("amanha cedo", ("instant", "2026-03-05 08:00", "amanha cedo")),
    ("amanhã de manhã", ("instant", "2026-03-05 09:00", "amanhã de manhã")),
    ("reuniao dps de amanha as 15h", ("instant", "2026-03-06 15:00", "dps de amanha as 15h")),
    ("dps d amnh", ("day", "2026-03-06", "dps d amnh")),
    ("depois de amanha", ("day", "2026-03-06", "depois de amanha")),
    ("gastei 20 antiontem", ("day", "2026-03-02", "antiontem")),
    ("gastei 40 ontem a noite", ("instant", "2026-03-03 20:00", "ontem a noite")),
    ("ontem de noite", ("instant", "2026-03-03 20:00", "ontem de noite")),
    ("terça que vem", ("day", "2026-03-10", "terça que vem")),
    ("terca q vem as 10h", ("instant", "2026-03-10 10:00", "terca q vem as 10h")),
    ("sexta da semana que vem", ("day", "2026-03-13", "sexta da semana que vem")),
    ("sexta feira da prox semana", ("day", "2026-03-13", "sexta feira da prox semana")),
    ("na quinta da semana passada", ("day", "2026-02-26", "na quinta da semana passada")),
    ("pagar o IPVA semana que vem na terça", ("day", "2026-03-10", "semana que vem na terça")),
    ("quarta desta semana", ("day", "2026-03-04", "quarta desta semana")),
    ("semana q vem", ("period", "2026-03-09", "semana q vem")),
    ("mes q vem", ("period", "2026-04-01", "mes q vem")),
    ("remind me tmrw at 10am to call the vet", ("instant", "2026-03-05 10:00", "tmrw at 10am")),
    ("tmrw", ("day", "2026-03-05", "tmrw")),
    ("2moro at 5pm", ("instant", "2026-03-05 17:00", "2moro at 5pm")),
    ("tomorow morning", ("instant", "2026-03-05 09:00", "tomorow morning")),
    ("how much did i spend 2day?", ("day", "2026-03-04", "2day")),
    ("spent 15 yday on uber", ("day", "2026-03-03", "yday")),
    ("dinner tonite", ("instant", "2026-03-04 20:00", "tonite")),
    ("friday next week", ("day", "2026-03-13", "friday next week")),
    ("next week on tuesday", ("day", "2026-03-10", "next week on tuesday")),
]


@pytest.mark.parametrize(("text", "expected"), TYPED)
def test_typed_relative_days(text: str, expected: tuple[str, str, str]) -> None:
    assert _first(text) == expected


@pytest.mark.parametrize(
    "text", ["hjkl", "amnhx", "tmrwz", "2dayz", "yesterdays", "a segunda vez", "o ytd do fundo"]
)
def test_lookalikes_are_not_days(text: str) -> None:
    assert find_when(text, now=NOW, tz=SAO_PAULO) == []
