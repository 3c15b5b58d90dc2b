"""Per-account request rate shared through the cache."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
import time_machine

from billing.services import ratelimit
from billing.services.gateway_access import gateway_for
from gateways.base import GatewayUnavailable
from tests.core.concurrency import caches_setting, hammer_in_processes, most_allowed, redis_url


@pytest.fixture(autouse=True)
def locmem_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"}
    }
    from django.core.cache import cache

    cache.clear()


def test_window_for_rates_above_and_below_one():
    assert ratelimit.window_for(Decimal("10")) == (1.0, 10)
    assert ratelimit.window_for(Decimal("2.5")) == (1.0, 2)
    assert ratelimit.window_for(Decimal("0.5")) == (2.0, 1)
    with pytest.raises(ValueError):
        ratelimit.window_for(0)


def test_an_account_gets_its_rate_then_waits_for_the_oldest_call_to_leave_the_second():
    with time_machine.travel(1000.2, tick=False) as traveller:
        assert [ratelimit.try_acquire(1, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
        traveller.shift(0.5)
        assert ratelimit.try_acquire(1, 3) == pytest.approx(0.5)
        assert ratelimit.try_acquire(2, 3) == 0.0  # another account has its own budget
        traveller.shift(0.5)
        assert ratelimit.try_acquire(1, 3) == 0.0


def test_slow_rate_gives_one_call_per_long_window():
    with time_machine.travel(2000.5, tick=False) as traveller:
        assert ratelimit.try_acquire(7, Decimal("0.5")) == 0.0
        traveller.shift(1)
        assert ratelimit.try_acquire(7, Decimal("0.5")) == pytest.approx(1.0)


def test_an_unreachable_limiter_store_is_a_gateway_unavailable_that_sent_nothing(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    with pytest.raises(GatewayUnavailable) as exc:
        ratelimit.try_acquire(1, 3)
    assert exc.value.maybe_sent is False


def test_acquire_sleeps_until_a_slot_and_gives_up_after_max_wait(monkeypatch):
    slept = []
    clock = [5000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    assert ratelimit.acquire(3, 1, max_wait=5, sleep=sleep) == 0.0
    waited = ratelimit.acquire(3, 1, max_wait=5, sleep=sleep)
    assert 1.0 <= waited <= 1.06 and len(slept) == 1
    with pytest.raises(ratelimit.RateLimited) as exc:
        ratelimit.acquire(3, 1, max_wait=0.1, sleep=sleep)
    assert isinstance(exc.value, GatewayUnavailable) and exc.value.maybe_sent is False


class Adapter:
    name = "juno"
    supports_lookup = True

    def __init__(self):
        self.calls = []

    def issue(self, request):
        self.calls.append(("issue", request))
        return "ok"

    def parse_notification(self, form):
        return form


def test_wrapper_takes_a_slot_per_network_call_only(monkeypatch):
    taken = []
    monkeypatch.setattr(ratelimit, "acquire", lambda account_id, rate: taken.append((account_id, rate)))
    adapter = Adapter()
    wrapped = ratelimit.rate_limited(adapter, account_id=9, per_second=Decimal("4"))
    assert wrapped.name == "juno" and wrapped.supports_lookup is True
    assert wrapped.issue("r") == "ok"
    assert wrapped.parse_notification({"a": 1}) == {"a": 1}
    assert taken == [(9, Decimal("4"))]
    assert ratelimit.rate_limited(adapter, account_id=None, per_second=1) is adapter


@pytest.mark.django_db
def test_gateway_for_applies_the_account_rate(juno_account, monkeypatch):
    juno_account.requests_per_second = Decimal("3.00")
    wrapped = gateway_for(juno_account)
    assert isinstance(wrapped, ratelimit.RateLimitedGateway)
    assert wrapped._account_id == juno_account.pk and wrapped._per_second == Decimal("3.00")


REDIS_URL = redis_url()


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", ["file", pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="no Redis"))]
)
def test_gateway_calls_of_one_account_from_many_processes_hold_ten_per_second(kind, tmp_path):
    """Worker processes sharing an account rated 10/s: no more than 10 calls go out in a second."""
    caches = caches_setting(kind, tmp_path)
    account = str(800_000 + secrets.randbelow(100_000))
    passed, most = most_allowed(10, 1.0, hammer_in_processes(caches, target="gateway", key=account))
    assert 10 <= passed <= most
