from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from linkbot.periods import Period, PeriodError, day_period, parse_period

BANGKOK = ZoneInfo("Asia/Bangkok")
BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 28)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def parse(text: str, zone: ZoneInfo = BANGKOK, today: date = TODAY) -> Period:
    return parse_period(text, today=today, zone=zone)


def test_today_is_the_default_and_runs_from_local_midnight_to_the_next() -> None:
    expected = Period(utc(2026, 11, 27, 17), utc(2026, 11, 28, 17), TODAY, TODAY)
    assert parse("") == expected
    assert parse("   ") == expected
    assert parse("today") == expected
    assert parse("TODAY") == expected
    assert parse(" Today ") == expected
    assert expected.days == [TODAY]


def test_yesterday() -> None:
    period = parse("yesterday")
    assert period == Period(
        utc(2026, 11, 26, 17), utc(2026, 11, 27, 17), date(2026, 11, 27), date(2026, 11, 27)
    )


def test_week_is_the_last_seven_days_with_today() -> None:
    period = parse("Week")
    assert (period.first_day, period.last_day) == (date(2026, 11, 22), TODAY)
    assert (period.start, period.end) == (utc(2026, 11, 21, 17), utc(2026, 11, 28, 17))
    assert period.days == [date(2026, 11, 22) + timedelta(days=n) for n in range(7)]


def test_month_is_this_calendar_month_up_to_today() -> None:
    period = parse("month")
    assert (period.first_day, period.last_day) == (date(2026, 11, 1), TODAY)
    assert (period.start, period.end) == (utc(2026, 10, 31, 17), utc(2026, 11, 28, 17))
    assert len(period.days) == 28


def test_month_on_its_first_day_is_one_day() -> None:
    period = parse("month", today=date(2026, 12, 1))
    assert period.days == [date(2026, 12, 1)]


def test_a_date() -> None:
    period = parse("2026-11-27")
    assert period == day_period(date(2026, 11, 27), BANGKOK)
    assert (period.start, period.end) == (utc(2026, 11, 26, 17), utc(2026, 11, 27, 17))


def test_today_written_as_a_date() -> None:
    assert parse("2026-11-28") == parse("today")


def test_a_range_is_inclusive() -> None:
    period = parse("2026-11-01..2026-11-27")
    assert (period.first_day, period.last_day) == (date(2026, 11, 1), date(2026, 11, 27))
    assert (period.start, period.end) == (utc(2026, 10, 31, 17), utc(2026, 11, 27, 17))
    assert len(period.days) == 27
    assert parse("2026-11-01 .. 2026-11-27") == period


def test_a_range_of_one_day_is_that_day() -> None:
    assert parse("2026-11-27..2026-11-27") == parse("2026-11-27")


def test_a_range_across_new_year() -> None:
    period = parse("2025-12-31..2026-01-01")
    assert period.days == [date(2025, 12, 31), date(2026, 1, 1)]
    assert (period.start, period.end) == (utc(2025, 12, 30, 17), utc(2026, 1, 1, 17))


def test_a_range_of_366_days_is_taken_and_367_refused() -> None:
    assert len(parse("2025-11-28..2026-11-28").days) == 366
    with pytest.raises(PeriodError):
        parse("2025-11-27..2026-11-28")


def test_utc_zone_days_are_utc_days() -> None:
    period = parse("2026-11-27", zone=ZoneInfo("UTC"))
    assert (period.start, period.end) == (utc(2026, 11, 27), utc(2026, 11, 28))


def test_the_day_summer_time_ends_has_25_hours() -> None:
    period = day_period(date(2026, 10, 25), BERLIN)
    assert period.start == utc(2026, 10, 24, 22)  # midnight CEST, +02:00
    assert period.end == utc(2026, 10, 25, 23)  # midnight CET, +01:00
    assert period.end - period.start == timedelta(hours=25)


def test_the_day_summer_time_starts_has_23_hours() -> None:
    period = day_period(date(2026, 3, 29), BERLIN)
    assert (period.start, period.end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert period.end - period.start == timedelta(hours=23)


def test_a_range_across_a_clock_change_starts_and_ends_at_local_midnights() -> None:
    period = parse("2026-10-24..2026-10-26", zone=BERLIN, today=TODAY)
    assert (period.start, period.end) == (utc(2026, 10, 23, 22), utc(2026, 10, 26, 23))
    assert period.end - period.start == timedelta(hours=73)


def test_a_zone_that_skips_midnight_starts_the_day_at_its_first_instant() -> None:
    # Chile moves its clocks at midnight: 2026-09-06 00:00 does not exist there.
    santiago = ZoneInfo("America/Santiago")
    period = day_period(date(2026, 9, 6), santiago)
    assert period.start == utc(2026, 9, 6, 4)
    assert period.start.astimezone(santiago).hour == 1
    assert period.end - period.start == timedelta(hours=23)


def test_bounds_are_aware_utc() -> None:
    for text in ("", "yesterday", "week", "month", "2026-11-01", "2026-11-01..2026-11-02"):
        period = parse(text, zone=BERLIN)
        assert period.start.tzinfo is UTC and period.end.tzinfo is UTC
        assert period.start < period.end


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow",
        "weeks",
        "last week",
        "2026-11-31",
        "2026-13-01",
        "27-11-2026",
        "2026/11/27",
        "20261127",
        "2026-11-27..",
        "..2026-11-27",
        "2026-11-27..2026-11-01",
        "2026-11-01..2026-11-27..2026-11-28",
        "2026-11-29",
        "2026-11-01..2026-11-29",
        "2026-11-1",
        "２０２６-１１-２７",
    ],
)
def test_bad_periods_are_refused_with_what_was_typed(text: str) -> None:
    with pytest.raises(PeriodError) as raised:
        parse(text)
    assert raised.value.text == text
    assert isinstance(raised.value, ValueError)


def test_a_date_in_the_future_is_refused_in_the_merchants_zone() -> None:
    # 2026-11-28 08:00 in Bangkok is still the 27th in Honolulu.
    honolulu = ZoneInfo("Pacific/Honolulu")
    with pytest.raises(PeriodError):
        parse("2026-11-28", zone=honolulu, today=date(2026, 11, 27))
    assert parse("2026-11-28", zone=BANGKOK).last_day == TODAY


@pytest.mark.parametrize("text", ["0001-01-01", "1999-12-31..2026-11-27"])
def test_dates_long_before_any_payment_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, today=date(2026, 11, 28), zone=ZoneInfo("Asia/Bangkok"))
