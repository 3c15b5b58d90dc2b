"""Due dates: the subscriber's due day in a given month, and business days in Brazil."""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

import holidays


def due_date_for(year: int, month: int, due_day: int) -> dt.date:
    """The due day in that month; day 31 in a 30-day month (or February) is the month's last day."""
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(due_day, last))


def add_months(
    day: dt.date, months: int, *, last_day_of_month: bool = False, due_day: int | None = None
) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if last_day_of_month:
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return due_date_for(year, month, due_day or day.day)


@lru_cache(maxsize=64)
def _holidays(uf: str, year: int) -> holidays.HolidayBase:
    try:
        return holidays.Brazil(subdiv=uf or None, years=year)
    except NotImplementedError:  # a UF the data does not cover: national holidays only
        return holidays.Brazil(years=year)


def is_business_day(day: dt.date, uf: str = "") -> bool:
    return day.weekday() < 5 and day not in _holidays(uf, day.year)


def next_business_day(day: dt.date, uf: str = "") -> dt.date:
    """``day`` itself when it is a business day, else the first one after it."""
    while not is_business_day(day, uf):
        day += dt.timedelta(days=1)
    return day
