"""Reminder messages read apart: repetition, a warning ahead of an event, and the task cut free
of the trigger, date, time, repetition and offset words (PT and EN, with and without accents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from whatsapp_ai.ai.agents import relationships as agenda
from whatsapp_ai.ai.agents.context import Moment
from whatsapp_ai.ai.extract.reminders import find_offset, find_repeat, first_occurrence

# Wednesday 2026-03-04, 10:00 in São Paulo.
NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
SP = ZoneInfo("America/Sao_Paulo")


def _moment(language: str = "pt") -> Moment:
    return Moment(now=NOW, timezone="America/Sao_Paulo", language=language)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("todo dia as 22h me lembra de tomar o remedio", "FREQ=DAILY"),
        ("me lembra todos os dias às 8h", "FREQ=DAILY"),
        ("remind me every day at 9pm to take my vitamins", "FREQ=DAILY"),
        ("daily at 7am remind me to stretch", "FREQ=DAILY"),
        ("me lembra toda segunda as 8h de levar o lixo", "FREQ=WEEKLY;BYDAY=MO"),
        ("toda segunda-feira me avisa", "FREQ=WEEKLY;BYDAY=MO"),
        ("todas as terças e quintas às 19h", "FREQ=WEEKLY;BYDAY=TU,TH"),
        ("toda sabado", "FREQ=WEEKLY;BYDAY=SA"),
        ("remind me every monday at 8am", "FREQ=WEEKLY;BYDAY=MO"),
        ("remind me on fridays to pay", "FREQ=WEEKLY;BYDAY=FR"),
        ("me lembra todo dia 10 de pagar o aluguel", "FREQ=MONTHLY;BYMONTHDAY=10"),
        ("remind me every month on the 5th", "FREQ=MONTHLY;BYMONTHDAY=5"),
        ("de segunda a sexta as 7h", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("todo dia util", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("remind me every weekday at 7am", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("todo fim de semana", "FREQ=WEEKLY;BYDAY=SA,SU"),
        ("todo mes", "FREQ=MONTHLY"),
    ],
)
def test_repetitions_become_rfc_5545_rules(text: str, rule: str) -> None:
    found = find_repeat(text)
    assert found is not None
    assert found.rule == rule


@pytest.mark.parametrize(
    "text",
    ["me lembra amanha as 10h", "remind me on friday", "me lembra dia 10", "todo o resto"],
)
def test_one_off_reminders_have_no_rule(text: str) -> None:
    assert find_repeat(text) is None


@pytest.mark.parametrize(
    ("text", "before", "event"),
    [
        ("dentista dia 5 as 14h, me avisa 1h antes", timedelta(hours=1), None),
        ("me lembra meia hora antes", timedelta(minutes=30), None),
        ("me avisa 2 dias antes do vencimento", timedelta(days=2), "vencimento"),
        ("remind me 30 min before the meeting", timedelta(minutes=30), "meeting"),
        ("remind me an hour before my appointment", timedelta(hours=1), "appointment"),
        ("me avisa 15 minutos de antecedencia", timedelta(minutes=15), None),
    ],
)
def test_warnings_ahead_of_an_event(text: str, before: timedelta, event: str | None) -> None:
    found = find_offset(text)
    assert found is not None
    assert (found.before, found.event) == (before, event)


def test_the_first_occurrence_later_today_counts() -> None:
    start = datetime(2026, 3, 4, 19, 0, tzinfo=SP)
    local_now = NOW.astimezone(SP)
    assert first_occurrence("FREQ=WEEKLY;BYDAY=WE", start=start, after=local_now) == start
    early = datetime(2026, 3, 4, 8, 0, tzinfo=SP)
    assert first_occurrence("FREQ=DAILY", start=early, after=local_now) == early + timedelta(days=1)


def _reminders(text: str, language: str = "pt") -> list[tuple[str, str, object]]:
    planned = agenda.plan("crm.add_reminder", text, _moment(language))
    return [
        (
            str(args["text"]),
            datetime.fromisoformat(str(args["due_at"])).astimezone(UTC).strftime("%m-%d %H:%M"),
            args.get("rrule"),
        )
        for tool, args in planned.calls
        if tool == "add_reminder"
    ]


@pytest.mark.parametrize(
    ("text", "language", "want"),
    [
        (
            "me lembra daqui 2 minutos de tirar o bolo do forno",
            "pt",
            ("tirar o bolo do forno", "03-04 13:02", None),
        ),
        (
            "me lembra em 45 minutos de tirar a roupa do varal",
            "pt",
            ("tirar a roupa do varal", "03-04 13:45", None),
        ),
        (
            "me lembra de pagar o IPVA semana que vem na terça",
            "pt",
            ("pagar o IPVA", "03-10 12:00", None),
        ),
        (
            "me lembra de pagar o IPVA semana que vem na terca",
            "pt",
            ("pagar o IPVA", "03-10 12:00", None),
        ),
        (
            "me lembra de ligar pro banco sexta da semana que vem as 14h",
            "pt",
            ("ligar pro banco", "03-13 17:00", None),
        ),
        (
            "amanha as 6h me lembra de ir pra academia",
            "pt",
            ("ir pra academia", "03-05 09:00", None),
        ),
        (
            "me avisa amanha as 7h30 pra pegar o onibus das 8h",
            "pt",
            ("pegar o onibus das 8h", "03-05 10:30", None),
        ),
        ("dentista dia 5 as 14h, me avisa 1h antes", "pt", ("dentista", "03-05 16:00", None)),
        (
            "tenho consulta quinta as 9h, me lembra de levar os exames 1h antes",
            "pt",
            ("levar os exames", "03-05 11:00", None),
        ),
        (
            "todo dia as 22h me lembra de tomar o remedio",
            "pt",
            ("tomar o remedio", "03-05 01:00", "FREQ=DAILY"),
        ),
        (
            "me lembra toda quarta as 19h de levar a chuteira",
            "pt",
            ("levar a chuteira", "03-04 22:00", "FREQ=WEEKLY;BYDAY=WE"),
        ),
        (
            "me lembra todo dia 10 de pagar o aluguel",
            "pt",
            ("pagar o aluguel", "03-10 12:00", "FREQ=MONTHLY;BYMONTHDAY=10"),
        ),
        (
            "me lembra de segunda a sexta as 7h de tomar agua",
            "pt",
            ("tomar agua", "03-05 10:00", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ),
        (
            "remind me in 10 minutes to turn off the stove",
            "en",
            ("turn off the stove", "03-04 13:10", None),
        ),
        (
            "remind me next week on tuesday to call the bank",
            "en",
            ("call the bank", "03-10 12:00", None),
        ),
        (
            "remind me to leave for the dentist 1 hour before my appointment tomorrow at 2pm",
            "en",
            ("leave for the dentist", "03-05 16:00", None),
        ),
        (
            "remind me 30 min before the meeting tomorrow at 3pm",
            "en",
            ("meeting", "03-05 17:30", None),
        ),
        (
            "remind me every weekday at 7am to check my emails",
            "en",
            ("check my emails", "03-05 10:00", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ),
        (
            "remind me every monday at 8am to take out the trash",
            "en",
            ("take out the trash", "03-09 11:00", "FREQ=WEEKLY;BYDAY=MO"),
        ),
    ],
)
def test_the_reminder_keeps_only_what_to_do(
    text: str, language: str, want: tuple[str, str, object]
) -> None:
    assert _reminders(text, language)[0] == want


def test_an_event_with_a_warning_goes_in_the_agenda_too() -> None:
    planned = agenda.plan("crm.add_reminder", "dentista dia 5 as 14h, me avisa 1h antes", _moment())
    meeting = [args for tool, args in planned.calls if tool == "add_meeting"]
    assert meeting == [{"title": "Dentista", "starts_at": "2026-03-05T14:00:00-03:00"}]


@pytest.mark.parametrize(
    ("intent", "text", "want"),
    [
        (
            "crm.cancel",
            "cancela esse lembrete",
            {"action": "cancel", "kind": "reminder", "words": []},
        ),
        (
            "crm.cancel",
            "cancela o lembrete do dentista",
            {"kind": "reminder", "words": ["dentista"]},
        ),
        (
            "crm.cancel",
            "desmarca a reuniao de sexta",
            {"kind": "meeting", "weekday": 4, "words": []},
        ),
        ("crm.cancel", "cancel the friday meeting", {"kind": "meeting", "weekday": 4, "words": []}),
        ("crm.move", "muda pra 18h", {"action": "move", "to_time": "18:00", "words": []}),
        (
            "crm.move",
            "passa o do dentista pra sexta",
            {"words": ["dentista"], "to_date": "2026-03-06"},
        ),
        ("crm.move", "move my 3pm meeting to 4", {"kind": "meeting", "hour": 15, "to_hour": 4}),
        ("crm.move", "change it to 5pm", {"to_time": "17:00", "words": []}),
    ],
)
def test_changes_name_their_record(intent: str, text: str, want: dict[str, object]) -> None:
    [(tool, args)] = agenda.plan(intent, text, _moment()).calls
    assert tool == "change_agenda"
    assert {k: args.get(k) for k in want} == want


def test_repeats_within_a_day_and_never_more_often_than_every_15_minutes() -> None:
    from whatsapp_ai.ai.extract.reminders import find_repeat
    from whatsapp_ai.relationships.errors import InvalidInputError
    from whatsapp_ai.relationships.recurrence import checked_rule

    assert find_repeat("me lembra de tomar agua a cada 2 horas").rule == "FREQ=HOURLY;INTERVAL=2"
    assert find_repeat("de 3 em 3 horas").rule == "FREQ=HOURLY;INTERVAL=3"
    assert find_repeat("every 30 minutes").rule == "FREQ=MINUTELY;INTERVAL=30"
    assert checked_rule("FREQ=HOURLY;INTERVAL=2") == "FREQ=HOURLY;INTERVAL=2"
    for rule in ("FREQ=MINUTELY;INTERVAL=5", "FREQ=SECONDLY"):
        with pytest.raises(InvalidInputError):
            checked_rule(rule)
