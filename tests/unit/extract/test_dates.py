"""Dates, times and periods in messages, resolved against the user's clock (PT and EN)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_ai.ai.extract.dates import Prefer, When, find_when

SAO_PAULO = "America/Sao_Paulo"
# A Wednesday.
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo(SAO_PAULO))


def _describe(when: When) -> str:
    if when.kind == "instant":
        assert when.end is None
        assert when.has_time
        return f"instant {when.start:%Y-%m-%d %H:%M}"
    assert when.end is not None
    assert not when.has_time
    assert when.start.hour == when.start.minute == 0
    if when.kind == "day":
        assert when.end.date() - when.start.date() == timedelta(days=1)
        return f"day {when.start:%Y-%m-%d}"
    return f"period {when.start:%Y-%m-%d}..{when.end:%Y-%m-%d}"


def _one(text: str, now: datetime = NOW, tz: str = SAO_PAULO, prefer: Prefer = "future") -> str:
    found = find_when(text, now=now, tz=tz, prefer=prefer)
    assert len(found) == 1, found
    when = found[0]
    assert when.start.tzinfo == ZoneInfo(tz)
    return f"{_describe(when)} [{text[when.span[0] : when.span[1]]}]"


FUTURE = [
    ("hoje", "day 2026-03-04 [hoje]"),
    ("ontem", "day 2026-03-03 [ontem]"),
    ("anteontem", "day 2026-03-02 [anteontem]"),
    ("amanhã", "day 2026-03-05 [amanhã]"),
    ("amanha", "day 2026-03-05 [amanha]"),
    ("depois de amanhã", "day 2026-03-06 [depois de amanhã]"),
    ("the day after tomorrow", "day 2026-03-06 [the day after tomorrow]"),
    ("today", "day 2026-03-04 [today]"),
    ("amanhã às 15h", "instant 2026-03-05 15:00 [amanhã às 15h]"),
    ("às 15:30", "instant 2026-03-04 15:30 [às 15:30]"),
    ("15h30", "instant 2026-03-04 15:30 [15h30]"),
    ("3pm", "instant 2026-03-04 15:00 [3pm]"),
    ("3:30 pm", "instant 2026-03-04 15:30 [3:30 pm]"),
    ("12am", "instant 2026-03-05 00:00 [12am]"),
    ("tomorrow at 3 pm", "instant 2026-03-05 15:00 [tomorrow at 3 pm]"),
    ("tomorrow 9am", "instant 2026-03-05 09:00 [tomorrow 9am]"),
    ("next Friday", "day 2026-03-06 [next Friday]"),
    ("sexta que vem", "day 2026-03-06 [sexta que vem]"),
    ("na sexta", "day 2026-03-06 [na sexta]"),
    ("segunda-feira", "day 2026-03-09 [segunda-feira]"),
    ("quarta", "day 2026-03-11 [quarta]"),
    ("this Friday", "day 2026-03-06 [this Friday]"),
    ("last Friday", "day 2026-02-27 [last Friday]"),
    ("quinta passada", "day 2026-02-26 [quinta passada]"),
    ("essa segunda", "day 2026-03-02 [essa segunda]"),
    ("dia 5", "day 2026-03-05 [dia 5]"),
    ("no dia 3", "day 2026-04-03 [no dia 3]"),
    ("dia 31", "day 2026-03-31 [dia 31]"),
    ("the 5th", "day 2026-03-05 [the 5th]"),
    ("5/10", "day 2026-10-05 [5/10]"),
    ("05/10/2026", "day 2026-10-05 [05/10/2026]"),
    ("5/1/27", "day 2027-01-05 [5/1/27]"),
    ("2026-10-05", "day 2026-10-05 [2026-10-05]"),
    ("29/02", "day 2028-02-29 [29/02]"),
    ("5 de outubro", "day 2026-10-05 [5 de outubro]"),
    ("5 de outubro de 2025", "day 2025-10-05 [5 de outubro de 2025]"),
    ("dia 5 de out", "day 2026-10-05 [dia 5 de out]"),
    ("October 5th", "day 2026-10-05 [October 5th]"),
    ("October 5th, 2027", "day 2027-10-05 [October 5th, 2027]"),
    ("5 October", "day 2026-10-05 [5 October]"),
    ("5th of October", "day 2026-10-05 [5th of October]"),
    ("May 5", "day 2026-05-05 [May 5]"),
    ("em 2 horas", "instant 2026-03-04 12:00 [em 2 horas]"),
    ("daqui a 10 minutos", "instant 2026-03-04 10:10 [daqui a 10 minutos]"),
    ("daqui 10 min", "instant 2026-03-04 10:10 [daqui 10 min]"),
    ("in an hour", "instant 2026-03-04 11:00 [in an hour]"),
    ("em meia hora", "instant 2026-03-04 10:30 [em meia hora]"),
    ("em uma hora", "instant 2026-03-04 11:00 [em uma hora]"),
    ("in 3 days", "day 2026-03-07 [in 3 days]"),
    ("daqui 2 semanas", "day 2026-03-18 [daqui 2 semanas]"),
    ("em 1 mês", "day 2026-04-04 [em 1 mês]"),
    ("em 3 dias às 10h", "instant 2026-03-07 10:00 [em 3 dias às 10h]"),
    ("há 3 dias", "day 2026-03-01 [há 3 dias]"),
    ("5 days ago", "day 2026-02-27 [5 days ago]"),
    ("2 hours ago", "instant 2026-03-04 08:00 [2 hours ago]"),
    ("este mês", "period 2026-03-01..2026-04-01 [este mês]"),
    ("mês passado", "period 2026-02-01..2026-03-01 [mês passado]"),
    ("próximo mês", "period 2026-04-01..2026-05-01 [próximo mês]"),
    ("last month", "period 2026-02-01..2026-03-01 [last month]"),
    ("this week", "period 2026-03-02..2026-03-09 [this week]"),
    ("nesta semana", "period 2026-03-02..2026-03-09 [nesta semana]"),
    ("semana que vem", "period 2026-03-09..2026-03-16 [semana que vem]"),
    ("ano passado", "period 2025-01-01..2026-01-01 [ano passado]"),
    ("next year", "period 2027-01-01..2028-01-01 [next year]"),
    ("em 2026", "period 2026-01-01..2027-01-01 [em 2026]"),
    ("em outubro", "period 2026-10-01..2026-11-01 [em outubro]"),
    ("next October", "period 2026-10-01..2026-11-01 [next October]"),
    ("em outubro de 2025", "period 2025-10-01..2025-11-01 [em outubro de 2025]"),
    ("October 2025", "period 2025-10-01..2025-11-01 [October 2025]"),
    ("fim de semana", "period 2026-03-07..2026-03-09 [fim de semana]"),
    ("this weekend", "period 2026-03-07..2026-03-09 [this weekend]"),
    ("no fim de semana que vem", "period 2026-03-07..2026-03-09 [no fim de semana que vem]"),
    ("last weekend", "period 2026-02-28..2026-03-02 [last weekend]"),
    ("últimos 7 dias", "period 2026-02-26..2026-03-05 [últimos 7 dias]"),
    ("last 30 days", "period 2026-02-03..2026-03-05 [last 30 days]"),
    ("de manhã", "instant 2026-03-05 09:00 [de manhã]"),
    ("à noite", "instant 2026-03-04 20:00 [à noite]"),
    ("amanhã de manhã", "instant 2026-03-05 09:00 [amanhã de manhã]"),
    ("amanhã cedo", "instant 2026-03-05 08:00 [amanhã cedo]"),
    ("hoje à noite", "instant 2026-03-04 20:00 [hoje à noite]"),
    ("tonight", "instant 2026-03-04 20:00 [tonight]"),
    ("sexta de manhã", "instant 2026-03-06 09:00 [sexta de manhã]"),
    ("domingo à tarde", "instant 2026-03-08 15:00 [domingo à tarde]"),
    ("friday night", "instant 2026-03-06 20:00 [friday night]"),
    ("às 3", "instant 2026-03-04 15:00 [às 3]"),
    ("at 5", "instant 2026-03-04 17:00 [at 5]"),
    ("às 8", "instant 2026-03-05 08:00 [às 8]"),
    ("às 8 da noite", "instant 2026-03-04 20:00 [às 8 da noite]"),
    ("às duas da tarde", "instant 2026-03-04 14:00 [às duas da tarde]"),
    ("às 10 e meia", "instant 2026-03-04 10:30 [às 10 e meia]"),
    ("ao meio-dia", "instant 2026-03-04 12:00 [ao meio-dia]"),
    ("meia-noite", "instant 2026-03-05 00:00 [meia-noite]"),
    ("às 15h de amanhã", "instant 2026-03-05 15:00 [às 15h de amanhã]"),
    ("at 3pm on Friday", "instant 2026-03-06 15:00 [at 3pm on Friday]"),
    ("no dia 20 às 14h30", "instant 2026-03-20 14:30 [no dia 20 às 14h30]"),
    ("20/03 às 9h", "instant 2026-03-20 09:00 [20/03 às 9h]"),
    ("amanhã, às 15h", "instant 2026-03-05 15:00 [amanhã, às 15h]"),
    ("amanhã 10 horas da manhã", "instant 2026-03-05 10:00 [amanhã 10 horas da manhã]"),
    ("14h do dia 10", "instant 2026-03-10 14:00 [14h do dia 10]"),
    ("no dia 5/10", "day 2026-10-05 [no dia 5/10]"),
    ("até sexta", "day 2026-03-06 [até sexta]"),
    ("toda segunda", "day 2026-03-09 [segunda]"),
    (
        "me lembra na sexta às 10 de pagar o aluguel",
        "instant 2026-03-06 10:00 [na sexta às 10]",
    ),
    ("remind me tomorrow at 9 to call John", "instant 2026-03-05 09:00 [tomorrow at 9]"),
    ("reunião com Marco amanhã", "day 2026-03-05 [amanhã]"),
]


@pytest.mark.parametrize(("text", "expected"), FUTURE)
def test_reads_when_for_reminders(text: str, expected: str) -> None:
    assert _one(text) == expected


PAST = [
    ("semana passada", "period 2026-02-23..2026-03-02 [semana passada]"),
    ("em outubro", "period 2025-10-01..2025-11-01 [em outubro]"),
    ("in October", "period 2025-10-01..2025-11-01 [in October]"),
    ("em março", "period 2026-03-01..2026-04-01 [em março]"),
    ("quanto gastei em fevereiro?", "period 2026-02-01..2026-03-01 [em fevereiro]"),
    ("outubro passado", "period 2025-10-01..2025-11-01 [outubro passado]"),
    ("na sexta", "day 2026-02-27 [na sexta]"),
    ("sexta", "day 2026-02-27 [sexta]"),
    ("quarta", "day 2026-02-25 [quarta]"),
    ("dia 5", "day 2026-02-05 [dia 5]"),
    ("dia 3", "day 2026-03-03 [dia 3]"),
    ("dia 4", "day 2026-03-04 [dia 4]"),
    ("5/10", "day 2025-10-05 [5/10]"),
    ("fim de semana", "period 2026-02-28..2026-03-02 [fim de semana]"),
    ("às 15h", "instant 2026-03-03 15:00 [às 15h]"),
    ("às 8", "instant 2026-03-04 08:00 [às 8]"),
    ("à noite", "instant 2026-03-03 20:00 [à noite]"),
    ("gastei 50 no mercado ontem às 20h", "instant 2026-03-03 20:00 [ontem às 20h]"),
    ("yesterday at 8pm", "instant 2026-03-03 20:00 [yesterday at 8pm]"),
    ("dezembro passado", "period 2025-12-01..2026-01-01 [dezembro passado]"),
]


@pytest.mark.parametrize(("text", "expected"), PAST)
def test_reads_when_for_spending(text: str, expected: str) -> None:
    assert _one(text, prefer="past") == expected


def test_several_in_one_message() -> None:
    text = "gastei 50 ontem e me lembra amanhã às 9 e na sexta"
    found = find_when(text, now=NOW, tz=SAO_PAULO)
    assert [text[w.span[0] : w.span[1]] for w in found] == ["ontem", "amanhã às 9", "na sexta"]


def test_month_first_when_asked() -> None:
    [when] = find_when("10/5", now=NOW, tz=SAO_PAULO, day_first=False)
    assert when.start.date().isoformat() == "2026-10-05"
    # A number above 12 decides the order whatever the setting.
    [when] = find_when("25/12", now=NOW, tz=SAO_PAULO, day_first=False)
    assert when.start.date().isoformat() == "2026-12-25"


YEAR_END = datetime(2026, 12, 30, 10, 0, tzinfo=ZoneInfo(SAO_PAULO))
NEW_YEAR = datetime(2026, 1, 2, 10, 0, tzinfo=ZoneInfo(SAO_PAULO))
OTHER_CLOCKS = [
    ("amanhã", YEAR_END, "future", "day 2026-12-31 [amanhã]"),
    ("depois de amanhã", YEAR_END, "future", "day 2027-01-01 [depois de amanhã]"),
    ("dia 5", YEAR_END, "future", "day 2027-01-05 [dia 5]"),
    ("5/1", YEAR_END, "future", "day 2027-01-05 [5/1]"),
    ("semana que vem", YEAR_END, "future", "period 2027-01-04..2027-01-11 [semana que vem]"),
    ("mês que vem", YEAR_END, "future", "period 2027-01-01..2027-02-01 [mês que vem]"),
    ("em janeiro", YEAR_END, "future", "period 2027-01-01..2027-02-01 [em janeiro]"),
    ("em janeiro", YEAR_END, "past", "period 2026-01-01..2026-02-01 [em janeiro]"),
    ("sexta", YEAR_END, "future", "day 2027-01-01 [sexta]"),
    ("in 3 days", YEAR_END, "future", "day 2027-01-02 [in 3 days]"),
    ("mês passado", NEW_YEAR, "past", "period 2025-12-01..2026-01-01 [mês passado]"),
    ("semana passada", NEW_YEAR, "past", "period 2025-12-22..2025-12-29 [semana passada]"),
    ("ontem", NEW_YEAR, "past", "day 2026-01-01 [ontem]"),
    ("anteontem", NEW_YEAR, "past", "day 2025-12-31 [anteontem]"),
    ("em dezembro", NEW_YEAR, "past", "period 2025-12-01..2026-01-01 [em dezembro]"),
    ("last year", NEW_YEAR, "past", "period 2025-01-01..2026-01-01 [last year]"),
    ("25/12", NEW_YEAR, "past", "day 2025-12-25 [25/12]"),
    ("há 5 dias", NEW_YEAR, "past", "day 2025-12-28 [há 5 dias]"),
    # Month ends.
    ("em 1 mês", datetime(2026, 1, 31, 10, tzinfo=ZoneInfo(SAO_PAULO)), "future",
     "day 2026-02-28 [em 1 mês]"),
    ("dia 31", datetime(2026, 4, 10, 10, tzinfo=ZoneInfo(SAO_PAULO)), "future",
     "day 2026-05-31 [dia 31]"),
    ("dia 30", datetime(2026, 2, 10, 10, tzinfo=ZoneInfo(SAO_PAULO)), "future",
     "day 2026-03-30 [dia 30]"),
    ("dia 30", datetime(2026, 3, 10, 10, tzinfo=ZoneInfo(SAO_PAULO)), "past",
     "day 2026-01-30 [dia 30]"),
    ("este mês", datetime(2026, 2, 28, 23, 59, tzinfo=ZoneInfo(SAO_PAULO)), "past",
     "period 2026-02-01..2026-03-01 [este mês]"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "now", "prefer", "expected"), OTHER_CLOCKS)
def test_other_clocks(text: str, now: datetime, prefer: Prefer, expected: str) -> None:
    assert _one(text, now=now, prefer=prefer) == expected


def test_now_in_another_zone_is_read_in_the_users_zone() -> None:
    # 01:00 UTC on the 5th is still the evening of the 4th in São Paulo (UTC-3, no DST).
    now = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    assert _one("hoje", now=now) == "day 2026-03-04 [hoje]"
    assert _one("amanhã às 9", now=now) == "instant 2026-03-05 09:00 [amanhã às 9]"
    [when] = find_when("amanhã às 9", now=now, tz=SAO_PAULO)
    assert when.start.utcoffset() == timedelta(hours=-3)


def test_naive_now_is_wall_clock_time_in_the_zone() -> None:
    assert _one("hoje", now=datetime(2026, 3, 4, 23, 30)) == "day 2026-03-04 [hoje]"


def test_hours_ahead_cross_a_dst_change_in_absolute_time() -> None:
    new_york = ZoneInfo("America/New_York")
    # Clocks go forward at 2:00 on 2026-03-08.
    now = datetime(2026, 3, 7, 23, 30, tzinfo=new_york)
    [when] = find_when("in 3 hours", now=now, tz="America/New_York")
    # Three hours of real time, four on the wall clock.
    assert when.start.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=3)
    assert f"{when.start:%Y-%m-%d %H:%M %Z}" == "2026-03-08 03:30 EDT"
    [when] = find_when("tomorrow at 3pm", now=now, tz="America/New_York")
    assert when.start.utcoffset() == timedelta(hours=-4)
    assert f"{when.start:%Y-%m-%d %H:%M}" == "2026-03-08 15:00"


def test_other_zones() -> None:
    tokyo = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert _one("amanhã", now=tokyo, tz="Asia/Tokyo") == "day 2026-03-05 [amanhã]"
    # The same instant is still the evening of the 3rd in New York.
    assert _one("today", now=tokyo, tz="America/New_York") == "day 2026-03-03 [today]"


NOTHING = [
    "",
    "oi, tudo bem?",
    "boa noite",
    "mais tarde",
    "segunda vez que eu pago",
    "a quinta parcela",
    "as 3 pizzas",
    "you may go",
    "5 out of 10",
    "31/04/2026",
    "29/02/2027",
    "comprei 2 pizzas",
    "R$ 1.234,56",
    "2 horas de reunião",
    "às 25h",
    "reunião com Marco",
    "gastei 50 reais",
]


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_to_read(text: str) -> None:
    assert find_when(text, now=NOW, tz=SAO_PAULO) == []


def test_impossible_time_leaves_the_day() -> None:
    assert _one("amanhã às 25h") == "day 2026-03-05 [amanhã]"


_NOWS = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 31), timezones=st.just(UTC)
)
_ZONES = st.sampled_from([SAO_PAULO, "America/New_York", "Europe/Lisbon", "Asia/Tokyo", "UTC"])


@given(_NOWS, _ZONES)
def test_tomorrow_is_the_next_calendar_day(now: datetime, tz: str) -> None:
    [when] = find_when("amanhã", now=now, tz=tz)
    local = now.astimezone(ZoneInfo(tz))
    assert when.start.date() == local.date() + timedelta(days=1)
    assert when.start.tzinfo == ZoneInfo(tz)


@given(_NOWS, _ZONES, st.integers(min_value=1, max_value=48))
def test_hours_ahead_are_exact(now: datetime, tz: str, hours: int) -> None:
    [when] = find_when(f"daqui a {hours} horas", now=now, tz=tz)
    assert when.start.astimezone(UTC) - now == timedelta(hours=hours)


@given(
    _NOWS,
    st.sampled_from(["segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo"]),
    st.sampled_from(["future", "past"]),
)
def test_weekdays_fall_within_a_week_on_the_preferred_side(
    now: datetime, name: str, prefer: Prefer
) -> None:
    [when] = find_when(f"na {name}", now=now, tz=SAO_PAULO, prefer=prefer)
    today = now.astimezone(ZoneInfo(SAO_PAULO)).date()
    days = (when.start.date() - today).days
    assert 1 <= (days if prefer == "future" else -days) <= 7


@given(_NOWS, st.integers(min_value=1, max_value=31), st.sampled_from(["future", "past"]))
def test_day_of_month_is_on_the_preferred_side(now: datetime, day: int, prefer: Prefer) -> None:
    [when] = find_when(f"dia {day}", now=now, tz=SAO_PAULO, prefer=prefer)
    today = now.astimezone(ZoneInfo(SAO_PAULO)).date()
    assert when.start.day == day
    assert when.start.date() >= today if prefer == "future" else when.start.date() <= today
    assert abs((when.start.date() - today).days) <= 62


@given(st.text(max_size=60))
def test_spans_are_ordered_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for when in find_when(text, now=NOW, tz=SAO_PAULO):
        start, end = when.span
        assert previous_end <= start < end <= len(text)
        previous_end = end
