import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing.services.amounts import amount_due

DUE = dt.date(2026, 12, 10)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
fines = st.decimals(min_value=Decimal("0"), max_value=Decimal("2.00"), places=2)
interests = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.33"), places=3)
max_days = st.integers(min_value=1, max_value=29)


def due_on(amount, days, fine=Decimal("2.00"), interest=Decimal("0.033"), max_d=29, contra=False):
    return amount_due(
        amount=amount,
        due_date=DUE,
        on=DUE + dt.timedelta(days=days),
        fine_percent=fine,
        daily_interest_percent=interest,
        max_days=max_d,
        contra_apresentacao=contra,
    )


def test_on_or_before_due_date_is_the_amount():
    assert due_on(Decimal("100.00"), 0) == Decimal("100.00")
    assert due_on(Decimal("100.00"), -5) == Decimal("100.00")


def test_fine_once_then_daily_interest():
    # 100 + 2 % fine + 3 days × 0.033 % = 102.099 → 102.10 (half-up)
    assert due_on(Decimal("100.00"), 3) == Decimal("102.10")
    assert due_on(Decimal("100.00"), 1) == Decimal("102.03")


def test_interest_stops_at_max_days():
    assert due_on(Decimal("100.00"), 40, max_d=10) == due_on(Decimal("100.00"), 10, max_d=10)


def test_contra_apresentacao_is_never_late():
    assert due_on(Decimal("100.00"), 20, contra=True) == Decimal("100.00")


def test_rounds_half_up_to_cents():
    # 50 × (1 + 0.02 + 0.00033 × 1) = 51.0165 → 51.02
    assert due_on(Decimal("50.00"), 1) == Decimal("51.02")
    assert due_on(Decimal("0.25"), 1, fine=Decimal("2.00"), interest=Decimal("0")) == Decimal("0.26")


@given(amounts, st.integers(-10, 60), fines, interests, max_days)
def test_never_below_amount_and_two_places(amount, days, fine, interest, max_d):
    value = due_on(amount, days, fine, interest, max_d)
    assert value >= amount
    assert value == value.quantize(Decimal("0.01"))


@given(amounts, st.integers(-10, 60), fines, interests, max_days)
def test_monotonic_in_days(amount, days, fine, interest, max_d):
    assert due_on(amount, days + 1, fine, interest, max_d) >= due_on(amount, days, fine, interest, max_d)
