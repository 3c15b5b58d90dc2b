"""Per-account request rate shared through the cache."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.services import ratelimit
from billing.services.gateway_access import gateway_for
from gateways.base import GatewayUnavailable


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


def test_fixed_window_allows_rate_then_waits_for_the_next_window():
    now = 1000.2
    assert [ratelimit.try_acquire(1, 3, now=now) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = ratelimit.try_acquire(1, 3, now=now)
    assert wait == pytest.approx(0.8)
    assert ratelimit.try_acquire(2, 3, now=now) == 0.0  # another account has its own budget
    assert ratelimit.try_acquire(1, 3, now=1001.0) == 0.0  # next window


def test_slow_rate_gives_one_call_per_long_window():
    assert ratelimit.try_acquire(7, Decimal("0.5"), now=2000.5) == 0.0
    assert ratelimit.try_acquire(7, Decimal("0.5"), now=2001.5) == pytest.approx(0.5)


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


def redis_url() -> str:
    import os

    for name in ("CACHE_URL", "CELERY_BROKER_URL"):
        value = os.environ.get(name, "")
        if value.startswith("redis://"):
            return value
    return ""


@pytest.mark.skipif(not redis_url(), reason="needs Redis (CACHE_URL or CELERY_BROKER_URL=redis://...)")
def test_redis_counter_is_shared_atomic_and_expires(settings):
    """On Redis the counter is one pipelined round trip; concurrent callers never share a slot."""
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import caches

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url()}
    }
    key = f"ratelimit:test:{secrets.token_hex(8)}"
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: ratelimit.count_call(key, 5), range(200)))
    assert sorted(counts) == list(range(1, 201))
    backend = caches["default"]
    client = backend._cache.get_client(backend.make_and_validate_key(key))
    assert 0 < client.ttl(backend.make_and_validate_key(key)) <= 5
    account = 900_000 + secrets.randbelow(100_000)
    now = 3000.0
    assert [ratelimit.try_acquire(account, 2, now=now) for _ in range(3)] == [0.0, 0.0, 1.0]
