"""The one limiter: sliding-log semantics, and real concurrency on every supported backend."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from core import ratelimit
from core.ratelimit import Decision, LimiterUnavailable, hit
from tests.core.concurrency import caches_setting, hammer_in_processes, most_allowed, redis_url, run_for

REDIS_URL = redis_url()
BACKENDS = [
    "file",
    "locmem",
    pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="no Redis")),
]


@pytest.fixture(params=BACKENDS)
def backend(request, settings, tmp_path):
    settings.CACHES = caches_setting(request.param, tmp_path)
    return request.param


def test_allows_limit_then_refuses_with_the_wait_until_the_oldest_hit_leaves(backend):
    with time_machine.travel(1_000_000.0, tick=False) as traveller:
        assert [hit("k", limit=3, window=10).allowed for _ in range(3)] == [True, True, True]
        traveller.shift(4)
        refused = hit("k", limit=3, window=10)
        assert refused.allowed is False and refused.retry_after == pytest.approx(6, abs=0.01)
        assert refused.retry_after_header == "6"
        assert hit("other", limit=3, window=10).allowed  # each key has its own budget
        traveller.shift(6.01)
        # The three first hits left the window; the refused one never counted.
        assert [hit("k", limit=3, window=10).allowed for _ in range(4)] == [True, True, True, False]


def test_refused_hits_do_not_count(backend):
    with time_machine.travel(2_000_000.0, tick=False) as traveller:
        assert hit("k", limit=1, window=1).allowed
        for _ in range(20):
            traveller.shift(0.04)
            assert not hit("k", limit=1, window=1).allowed
        traveller.shift(0.25)  # one second after the only allowed hit
        assert hit("k", limit=1, window=1).allowed


def test_no_window_boundary_lets_twice_the_limit_through(backend):
    """A fixed window allows 2 x limit around its boundary; the sliding log never more than limit."""
    with time_machine.travel(3_000_000.9, tick=False) as traveller:
        assert sum(hit("k", limit=5, window=1).allowed for _ in range(5)) == 5
        traveller.shift(0.2)  # crossed a whole second
        assert sum(hit("k", limit=5, window=1).allowed for _ in range(5)) == 0


def test_several_limits_count_one_hit_everywhere_or_nowhere(backend):
    """An address limit of 2 and an account limit of 3, hit together: the third hit from the same
    address is refused by the address limit alone and counted under neither."""
    with time_machine.travel(4_000_000.0, tick=False) as traveller:
        both = [ratelimit.Limit("addr:a", 2, 10), ratelimit.Limit("account:1", 3, 20)]
        assert [ratelimit.hit_all(both).allowed for _ in range(2)] == [True, True]
        traveller.shift(1)
        refused = ratelimit.hit_all(both)
        assert refused.allowed is False and refused.retry_after == pytest.approx(9, abs=0.01)
        # Not counted under the account: another address still has the account's third hit.
        other = [ratelimit.Limit("addr:b", 2, 10), ratelimit.Limit("account:1", 3, 20)]
        assert ratelimit.hit_all(other).allowed
        # Now both refuse: the longest wait is the answer (the account's, 19 s).
        assert ratelimit.hit_all(both).retry_after == pytest.approx(19, abs=0.01)
        assert not ratelimit.hit_all(other).allowed
        # A limit alone is the same rule.
        assert hit("addr:b", limit=2, window=10).allowed
        assert not hit("addr:b", limit=2, window=10).allowed


def test_several_limits_need_at_least_one_and_each_valid(backend):
    with pytest.raises(ValueError):
        ratelimit.hit_all([])
    with pytest.raises(ValueError):
        ratelimit.hit_all([ratelimit.Limit("a", 1, 1), ratelimit.Limit("b", 0, 1)])


def most_in_any_window(instants: list[float], window: float) -> int:
    """The most instants inside any interval of ``window`` seconds (closed at both ends)."""
    ordered, most, left = sorted(instants), 0, 0
    for right, instant in enumerate(ordered):
        while instant - ordered[left] > window:
            left += 1
        most = max(most, right - left + 1)
    return most


def test_a_hit_decided_late_never_lets_more_than_the_limit_through(backend, monkeypatch):
    """Two hits at 10.0 and 10.1, one at 11.5 (the first two left its window); then a caller that
    read the clock at 10.45 and reached the store only after 11.5 (it waited for the lock, or its
    request for the network). Decided at 10.45 it would be the third hit in [10.0, 10.45]."""
    key = f"late:{secrets.token_hex(4)}"
    allowed: list[float] = []
    with time_machine.travel(10.0, tick=False) as traveller:
        for shift in (0.0, 0.1, 1.4):
            traveller.shift(shift)
            decision = hit(key, limit=2, window=1)
            assert decision.allowed and decision.at == pytest.approx(time.time())
            allowed.append(decision.at)
        traveller.move_to(10.45)
        if backend == "redis":  # the script runs when the request arrives, with the caller's instant
            backend_cache = caches["default"]
            late = ratelimit._hit_redis(
                backend_cache, [ratelimit.Limit(ratelimit.PREFIX + key, 2, 1.0)], now=time.time()
            )
        else:  # the lock is granted at 11.6
            real_enter = ratelimit._file_lock.__enter__ if backend == "file" else None
            if real_enter is not None:

                def enter_late(lock):
                    real_enter(lock)
                    traveller.move_to(11.6)

                monkeypatch.setattr(ratelimit._file_lock, "__enter__", enter_late)
            else:
                stripes = [
                    _LateLock(lock, lambda: traveller.move_to(11.6)) for lock in ratelimit._LOCAL_LOCKS
                ]
                monkeypatch.setattr(ratelimit, "_LOCAL_LOCKS", stripes)
            late = hit(key, limit=2, window=1)
    if late.allowed:
        allowed.append(late.at)
    assert late.at >= 11.5
    assert most_in_any_window(allowed, 1.0) <= 2


class _LateLock:
    """A lock granted only after ``wait`` ran (the time another holder kept it)."""

    def __init__(self, lock: threading.Lock, wait) -> None:
        self.lock, self.wait = lock, wait

    def __enter__(self) -> None:
        self.lock.acquire()
        self.wait()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_bad_arguments_and_unsupported_backends_are_refused(settings):
    with pytest.raises(ValueError):
        hit("k", limit=0, window=1)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    with pytest.raises(ImproperlyConfigured, match="cannot count atomically"):
        hit("k", limit=1, window=1)
    assert not ratelimit.supported(caches["default"])


def test_unreachable_redis_raises_limiter_unavailable(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    with pytest.raises(LimiterUnavailable):
        hit("k", limit=1, window=1)


def test_unwritable_cache_directory_raises_limiter_unavailable(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(blocker),
        }
    }
    with pytest.raises(LimiterUnavailable):
        hit("k", limit=1, window=1)


@pytest.mark.skipif(not REDIS_URL, reason="no Redis")
def test_redis_key_expires_after_the_window(settings, tmp_path):
    settings.CACHES = caches_setting("redis", tmp_path)
    assert hit("k", limit=2, window=3) == Decision(True, 0.0)
    backend = caches["default"]
    key = backend.make_and_validate_key(ratelimit.PREFIX + "k")
    client = backend._cache.get_client(key)  # the private attribute the limiter relies on
    assert 0 < client.pttl(key) <= 4000
    assert client.zcard(key) == 1


@pytest.mark.skipif(not REDIS_URL, reason="no Redis")
def test_a_redis_that_lost_the_script_gets_it_again(settings, tmp_path):
    """Redis restarted (or SCRIPT FLUSH): the limiter loads its script again and counts on."""
    settings.CACHES = caches_setting("redis", tmp_path)
    key = f"flushed:{secrets.token_hex(4)}"
    assert hit(key, limit=2, window=5).allowed
    caches["default"]._cache.get_client(None, write=True).script_flush()
    assert hit(key, limit=2, window=5).allowed
    assert not hit(key, limit=2, window=5).allowed


@pytest.mark.slow
def test_threads_never_get_more_than_the_limit_in_a_second(backend):
    """32 threads hammer one key for 0.8 s: 10 pass in each second they span (one, on an idle machine)."""
    key = f"threads:{secrets.token_hex(4)}"
    hit(key + ":warm", limit=1, window=1)  # connections and directories exist before the start
    start = threading.Barrier(32)

    def worker(_: int) -> tuple[int, float, float]:
        start.wait()
        return run_for(0.8, lambda: hit(key, limit=10, window=1.0).allowed)

    with ThreadPoolExecutor(32) as pool:
        passed, most = most_allowed(10, 1.0, list(pool.map(worker, range(32))))
    assert 10 <= passed <= most


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", ["file", pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="no Redis"))]
)
def test_processes_never_get_more_than_the_limit_in_a_second(kind, tmp_path):
    caches = caches_setting(kind, tmp_path)
    runs = hammer_in_processes(caches, target="limiter", key=f"procs:{secrets.token_hex(4)}")
    passed, most = most_allowed(10, 1.0, runs)
    assert 10 <= passed <= most
