"""The periods a report covers, as the merchant types them: ``today``, ``week``, ``2026-11-27``...

Days are the merchant's days (LINKBOT_TIMEZONE), so a period's bounds are
local midnights, kept in UTC because that is how the store keeps times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A year, leap day included: enough for any report a chat can show, and a
# bound on the work one command can ask for.
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime  # aware, UTC, inclusive: local midnight of first_day
    end: datetime  # aware, UTC, exclusive: local midnight after last_day
    first_day: date
    last_day: date

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]


class PeriodError(ValueError):
    """What was typed is not a period the bot can report on."""

    def __init__(self, text: str, reason: str = "") -> None:
        super().__init__(f"not a period: {text!r}" + (f" ({reason})" if reason else ""))
        self.text = text
        self.reason = reason


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC.

    Where a zone skips midnight (a DST change at 00:00), fold=0 resolves the
    missing time with the offset before the change, which lands on the
    first instant that exists; where midnight happens twice, on the first.
    """
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def day_period(day: date, zone: ZoneInfo) -> Period:
    return _period(day, day, zone)


def parse_period(text: str, *, today: date, zone: ZoneInfo) -> Period:
    """The period ``text`` names; "" means today. Raises :class:`PeriodError`.

    ``month`` is this calendar month up to today: the days after today have
    no payments yet, and a future day is refused everywhere else too.
    """
    word = text.strip().lower()
    if word in ("", "today"):
        return _period(today, today, zone)
    if word == "yesterday":
        day = today - timedelta(days=1)
        return _period(day, day, zone)
    if word == "week":
        return _period(today - timedelta(days=6), today, zone)
    if word == "month":
        return _period(today.replace(day=1), today, zone)
    first_text, separator, last_text = word.partition("..")
    first = _date(first_text.strip(), text)
    last = _date(last_text.strip(), text) if separator else first
    if last < first:
        raise PeriodError(text, "the range ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(text, f"longer than {MAX_DAYS} days")
    if last > today:
        raise PeriodError(text, "in the future")
    return _period(first, last, zone)


EARLIEST_YEAR = 2000


def _date(value: str, text: str) -> date:
    # fromisoformat alone takes "20261127" too on 3.11+; only the dashed form is meant.
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise PeriodError(text, "dates are written 2026-11-27")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PeriodError(text, "no such date") from None
    if day.year < EARLIEST_YEAR:  # long before any payment, and near datetime's own limits
        raise PeriodError(text, "no such date")
    return day


def _period(first: date, last: date, zone: ZoneInfo) -> Period:
    return Period(
        start=local_midnight(first, zone),
        end=local_midnight(last + timedelta(days=1), zone),
        first_day=first,
        last_day=last,
    )
