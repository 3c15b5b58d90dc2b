import datetime as dt

from billing.services.dates import add_months, due_date_for, next_business_day


def test_due_day_31_in_short_months_is_the_last_day():
    assert due_date_for(2027, 2, 31) == dt.date(2027, 2, 28)
    assert due_date_for(2028, 2, 31) == dt.date(2028, 2, 29)
    assert due_date_for(2026, 11, 31) == dt.date(2026, 11, 30)
    assert due_date_for(2026, 12, 31) == dt.date(2026, 12, 31)


def test_add_months_keeps_the_day_or_goes_to_month_end():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 2) == dt.date(2027, 1, 15)
    assert add_months(dt.date(2026, 1, 10), 1, last_day_of_month=True) == dt.date(2026, 2, 28)


def test_weekends_and_national_holidays_move_to_next_business_day():
    assert next_business_day(dt.date(2026, 11, 21)) == dt.date(2026, 11, 23)  # Saturday
    assert next_business_day(dt.date(2026, 12, 25)) == dt.date(2026, 12, 28)  # Christmas (Friday)
    assert next_business_day(dt.date(2026, 11, 24)) == dt.date(2026, 11, 24)


def test_state_holidays_by_uf():
    # 9 July: Revolução Constitucionalista, a São Paulo state holiday (a Thursday in 2026)
    assert next_business_day(dt.date(2026, 7, 9), "SP") == dt.date(2026, 7, 10)
    assert next_business_day(dt.date(2026, 7, 9), "MG") == dt.date(2026, 7, 9)
