"""Dates, times and periods in a message (PT and EN), resolved against the user's clock.

`find_when` reads "amanhã às 15h", "sexta que vem", "dia 5", "05/10/2026", "October 5th", "em 2
horas", "semana passada", "em outubro", "this week" and the like, and returns aware datetimes in
the user's time zone:

- kind "instant": a moment (`end` is None, `has_time` is True): "amanhã às 15h", "em 2 horas",
  "às 9" alone, "à noite" alone.
- kind "day": a calendar day without a time (`start` its midnight, `end` the next midnight):
  "hoje", "sexta", "dia 5", "5/10", "em 3 dias".
- kind "period": several days (`end` exclusive): "semana passada", "este mês", "em outubro",
  "last year", "fim de semana", "últimos 7 dias".

Days are read as people type them too: "hj", "amnh", "dps de amanha", "tmrw", "2day", "yday",
"tonite", "terça q vem", and a weekday inside a named week ("sexta da semana que vem", "semana
que vem na terça", "friday next week") is that week's day.

A day followed or preceded by a time ("amanhã às 15h", "às 15h de amanhã", "at 3pm on Friday",
"sexta de manhã") is one instant; its span covers both and the preposition before them ("no dia
5", "na sexta", "em outubro", "dia 5/10"), so the caller can cut the whole phrase out.

Decisions on the ambiguous cases:

- `prefer` picks between the past and the future when the text does not say: "past" for spending
  questions ("quanto gastei em outubro?": the last October that has begun, this one if it is
  October now), "future" for reminders (the next October that has not ended). It applies to
  weekdays, "dia 5", dates without a year, months, "fim de semana", and to a time alone ("às 9"
  said at 10:00 is tomorrow for a reminder, today for an expense; "às 15h" is yesterday for an
  expense said at 10:00).
- A weekday alone or with "que vem"/"próxima"/"next" is the first one after today; with
  "passada"/"última"/"last" the last one before today; with "esta"/"essa"/"this" the one in the
  current week. A weekday alone never means today: "sexta" said on a Friday is a week away (or
  ago).
- Weeks run from Monday to Monday. "fim de semana" is Saturday and Sunday; "next weekend" is the
  first one starting after today, "last weekend" the one before the current week.
- "dia 31" in a month without a 31st is the nearest month that has one (in the direction of
  `prefer`); "29/02" without a year the nearest leap year. A date that cannot exist ("31/04/2026")
  is not read. "em 1 mês" from January 31st is the last day of February.
- "5/10" is day first (Brazilian order) unless `day_first=False`; a first number above 12 forces
  day first, a second number above 12 month first.
- Parts of the day stand for default hours: madrugada 3:00, cedo ("amanhã cedo") 8:00, manhã /
  morning 9:00, tarde / afternoon 15:00, noite / evening / night / tonight 20:00; "meio-dia" is
  12:00 and "meia-noite" 0:00. A part of the day turns "8" into 20:00 ("às 8 da noite").
- An hour written bare after "às"/"at" ("às 3", "at 5") from 1 to 6 is in the afternoon (15:00,
  17:00): nobody schedules at 3 in the morning without saying so. "3h" and "15:00" are read as
  written (24-hour clock).
- "últimos 7 dias" / "last 7 days" are the seven days ending today, today included. "last week" is
  the previous calendar week, not the last seven days.
- "15 horas" is a time only with "às" or a part of the day ("às 15 horas", "10 horas da manhã");
  alone it is a duration ("2 horas de reunião") and not read.
- "toda segunda" is read as the next Monday; repetition is the caller's to see.
- "em 2 horas" / "daqui a 10 minutos" are counted in absolute time (a DST change in between does
  not shift them); "em 3 dias" / "em 2 semanas" are calendar days without a time.
- Bare PT weekday names that are also ordinals ("segunda vez", "quinta parcela") are not read when
  followed by a noun they usually count; a capitalised "Marco" without "ç" is a name, not March.

The readers live by topic: `days` (relative days, weekdays, "dia 5", written dates),
`periods` (months, years, weeks, weekends, last days, durations) and `times` (clock times,
parts of the day); `reading` joins their tokens into `When`s.
"""

from whatsapp_ai.ai.extract.dates._shared import Kind, Prefer, When
from whatsapp_ai.ai.extract.dates.reading import find_when

__all__ = ["Kind", "Prefer", "When", "find_when"]
