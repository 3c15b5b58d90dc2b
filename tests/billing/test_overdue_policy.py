"""The overdue policy's rules, one by one, under frozen time where a date is "today"."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from billing.services import overdue_policy as policy
from core.dates import today

D = dt.date


def test_the_customer_figure_wins_over_the_provider_default_even_when_zero():
    assert policy.block_after_days(customer_days=None, provider_days=15) == 15
    assert policy.block_after_days(customer_days=5, provider_days=15) == 5
    assert policy.block_after_days(customer_days=0, provider_days=15) == 0


@time_machine.travel(
    dt.datetime(2026, 11, 25, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-3))), tick=False
)
def test_due_on_the_10th_with_15_days_blocks_from_the_26th_sao_paulo_time():
    # 23:30 in São Paulo is already the 26th in UTC: the rule counts São Paulo days.
    assert today() == D(2026, 11, 25)
    assert not policy.is_past_limit(due_date=D(2026, 11, 10), today=today(), days=15)
    assert policy.is_past_limit(due_date=D(2026, 11, 10), today=today() + dt.timedelta(days=1), days=15)
    assert policy.blocked_from(due_date=D(2026, 11, 10), days=15) == D(2026, 11, 26)


@pytest.mark.parametrize(
    ("due", "today_", "days", "past"),
    [
        (D(2026, 11, 10), D(2026, 11, 25), 15, False),  # due + 15: still tolerated
        (D(2026, 11, 10), D(2026, 11, 26), 15, True),
        (D(2026, 1, 31), D(2026, 2, 16), 15, True),  # across a month end
        (D(2026, 1, 31), D(2026, 2, 15), 15, False),
        (D(2026, 11, 10), D(2027, 11, 10), 0, False),  # 0 = never
        (D(2026, 11, 10), D(2026, 11, 12), 1, True),
        (D(2026, 11, 10), D(2026, 11, 11), 1, False),
    ],
)
def test_is_past_limit(due, today_, days, past):
    assert policy.is_past_limit(due_date=due, today=today_, days=days) is past
    blocked_from = policy.blocked_from(due_date=due, days=days)
    assert (blocked_from is not None and today_ >= blocked_from) is past


def test_last_tolerated_due_date_is_none_when_never():
    assert policy.last_tolerated_due_date(today=D(2026, 11, 26), days=0) is None
    assert policy.last_tolerated_due_date(today=D(2026, 11, 26), days=15) == D(2026, 11, 10)


def test_trust_covers_n_days_counting_the_day_asked():
    monday = D(2026, 11, 23)
    last = policy.trust_last_day(today=monday, days=3)
    assert last == D(2026, 11, 25)
    assert policy.trust_is_valid(last_day=last, today=D(2026, 11, 25))
    assert not policy.trust_is_valid(last_day=last, today=D(2026, 11, 26))
    assert not policy.trust_is_valid(last_day=None, today=monday)


def test_the_billing_cycle_is_the_month_of_the_oldest_overdue_charge():
    assert policy.billing_cycle(D(2026, 10, 10)) == D(2026, 10, 1)


def _refusal(**overrides):
    facts = {
        "status_is_blocked": True,
        "blocked_for_debt": True,
        "trust_days": 3,
        "oldest_overdue_due_date": D(2026, 10, 10),
        "used_in_cycle_on": None,
    }
    return policy.trust_refusal(**{**facts, **overrides})


def test_trust_is_granted_once_per_cycle_and_refused_with_a_reason():
    assert _refusal() is None
    assert _refusal(used_in_cycle_on=D(2026, 10, 27)).code == policy.ALREADY_USED
    assert "27/10/2026" in str(_refusal(used_in_cycle_on=D(2026, 10, 27)).message)
    assert _refusal(status_is_blocked=False).code == policy.NOT_BLOCKED
    assert _refusal(blocked_for_debt=False).code == policy.NOT_FOR_DEBT
    assert _refusal(trust_days=0).code == policy.DISABLED
    assert _refusal(oldest_overdue_due_date=None).code == policy.NOTHING_OVERDUE
