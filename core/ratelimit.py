"""The one rate limiter: at most ``limit`` hits per ``window`` seconds for a key, atomically.

Every limit of the product goes through :func:`hit`: gateway calls per bank account, the portal's
requests per address, the notification endpoints' requests per address. It is a sliding log: the
store keeps the instants of the hits it allowed during the last ``window`` seconds, and a hit is
allowed only while fewer than ``limit`` of them remain. So no interval of ``window`` seconds, wherever
it starts, ever holds more than ``limit`` allowed hits (a fixed window lets twice the limit through
across a boundary).

Atomicity, per cache backend of ``CACHES["default"]`` (the only state is there):

* Redis (``CACHE_URL=redis://...``, shared by every machine): one Lua script per hit (prune, count,
  add), which Redis runs as a single command; machines' clocks are assumed NTP-synchronised. A hit
  that reaches Redis with an instant older than the newest in the log (its caller was descheduled
  or slow on the network) is counted at that newest instant, so the log only moves forward and an
  old instant never prunes hits that still count.
* File cache (the embedded default; processes of one machine): the read-modify-write of the key
  happens under an exclusive ``flock`` on one of 256 lock files under ``<cache dir>/ratelimit-locks``,
  shared by every thread and process that uses the same directory; the instant is read once the
  lock is held, so a caller that waited for the lock never decides with an instant already past.
* Local memory (one process; tests): under a process-wide lock, the same way.

Any other backend (Memcached, the database cache, the dummy cache) is refused with
:class:`~django.core.exceptions.ImproperlyConfigured`: its limits would not hold.

When the store cannot be reached (Redis down, cache directory unwritable) :func:`hit` raises
:class:`LimiterUnavailable`; callers answer a clear "try again later" rather than let traffic through
unlimited or fail with a 500.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: Cache key prefix of every limiter key.
PREFIX = "ratelimit:"
#: Lock stripes of the file and local-memory backends: keys hashing to different stripes never wait
#: for each other.
STRIPES = 256
LOCK_DIRECTORY = "ratelimit-locks"


@dataclass(frozen=True)
class Decision:
    """What :func:`hit` decided: ``retry_after`` is 0.0 when allowed, else the seconds until a slot frees.

    ``at`` is the instant (seconds since the epoch) the hit was decided at, and counted at when
    allowed: no interval of ``window`` seconds holds more than ``limit`` allowed instants.
    """

    allowed: bool
    retry_after: float
    at: float = field(default=0.0, compare=False)

    @property
    def retry_after_header(self) -> str:
        """The ``Retry-After`` header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


class LimiterUnavailable(Exception):
    """The limiter's store could not be reached: nothing was counted."""


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` hits per ``window`` seconds under ``key`` (``"portal:203.0.113.7"``)."""

    key: str
    limit: int
    window: float


def hit(key: str, *, limit: int, window: float, alias: str = "default") -> Decision:
    """Count one hit on ``key`` if fewer than ``limit`` were allowed in the last ``window`` seconds.

    ``key`` names what is limited (``"portal:203.0.113.7"``); the decision is atomic across every
    thread, process and (on Redis) machine sharing the cache ``alias``. A refused hit is not counted,
    so a client that keeps hammering does not push its own slot further away.
    """
    return hit_all([Limit(key, limit, window)], alias=alias)


def hit_all(limits: Sequence[Limit], *, alias: str = "default") -> Decision:
    """One hit counted under every limit of ``limits`` at once, or under none of them.

    Allowed only when each limit allows it; refused, it is counted nowhere and ``retry_after`` is the
    longest wait among the limits that refused. One atomic step for all of them (on Redis one round
    trip, which is why a caller with two limits on one request asks for both together).
    """
    if not limits:
        raise ValueError("at least one limit")
    for one in limits:
        if one.limit < 1 or one.window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
    keyed = [Limit(PREFIX + one.key, one.limit, one.window) for one in limits]
    try:
        backend = caches[alias]
        if isinstance(backend, RedisCache):
            return _hit_redis(backend, keyed, now=time.time())
        # The instant is read under the locks: read before, a caller that waited its turn would
        # prune with an instant already past the hits that still count.
        if isinstance(backend, FileBasedCache):
            with _file_locks(backend, [one.key for one in keyed]):
                return _hit_cache(backend, keyed, now=time.time())
        if isinstance(backend, LocMemCache):
            with _local_locks([one.key for one in keyed]):
                return _hit_cache(backend, keyed, now=time.time())
    except (OSError, RedisConnectionError, RedisTimeoutError) as exc:
        raise LimiterUnavailable(f"rate limiter store unreachable ({type(exc).__name__})") from exc
    raise ImproperlyConfigured(unsupported_backend_message(backend))


def unsupported_backend_message(backend: Any) -> str:
    return (
        f"The rate limiter needs a Redis, file or local-memory cache as CACHES['default']; "
        f"{type(backend).__module__}.{type(backend).__name__} cannot count atomically."
    )


def supported(backend: Any) -> bool:
    """True when ``backend`` is one the limiter is atomic on."""
    return isinstance(backend, RedisCache | FileBasedCache | LocMemCache)


def _decide(stamps: list[float], *, limit: int, window: float, now: float) -> tuple[Decision, list[float]]:
    """The sliding log's rule, shared by the file and local-memory backends."""
    recent = sorted(stamp for stamp in stamps if stamp > now - window)
    if len(recent) < limit:
        return Decision(True, 0.0, now), [*recent, now]
    return Decision(False, max(0.0, recent[-limit] + window - now), now), recent


def _hit_cache(backend: Any, limits: Sequence[Limit], *, now: float) -> Decision:
    """Every key's log read, each limit decided, and the hit written to all of them only when every
    one allowed it (the caller holds every key's lock)."""
    decided = [
        (one, *_decide(backend.get(one.key) or [], limit=one.limit, window=one.window, now=now))
        for one in limits
    ]
    refused = [decision for _one, decision, _kept in decided if not decision.allowed]
    if refused:
        return Decision(False, max(decision.retry_after for decision in refused), now)
    for one, _decision, kept in decided:
        backend.set(one.key, kept, timeout=math.ceil(one.window) + 1)
    return Decision(True, 0.0, now)


def _stripe(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=2).digest(), "big") % STRIPES


def _stripes(keys: Sequence[str]) -> list[int]:
    """The keys' lock stripes, each once, in one order for every caller (so two never deadlock)."""
    return sorted({_stripe(key) for key in keys})


_LOCAL_LOCKS = [threading.Lock() for _ in range(STRIPES)]


@contextlib.contextmanager
def _local_locks(keys: Sequence[str]) -> Iterator[None]:
    with contextlib.ExitStack() as held:
        for stripe in _stripes(keys):
            held.enter_context(_LOCAL_LOCKS[stripe])
        yield


@contextlib.contextmanager
def _file_locks(backend: FileBasedCache, keys: Sequence[str]) -> Iterator[None]:
    with contextlib.ExitStack() as held:
        for stripe in _stripes(keys):
            held.enter_context(_file_lock(backend, stripe))
        yield


class _file_lock:  # noqa: N801 - used as a context manager, reads like one
    """An exclusive ``flock`` on one stripe's file in the cache directory."""

    def __init__(self, backend: FileBasedCache, stripe: int) -> None:
        directory = os.path.join(backend._dir, LOCK_DIRECTORY)  # type: ignore[attr-defined]
        self.path = os.path.join(directory, f"{stripe:03d}.lock")
        self.directory = directory
        self.fd = -1

    def __enter__(self) -> None:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            os.makedirs(self.directory, 0o700, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing the descriptor releases the lock


# For every key: prune what left its window and count; then add this hit to every key only when
# each is under its limit: one command for Redis, so no two clients ever see the same count. Scores
# are the hits' instants; members are random so two hits at the same instant are two entries. Each
# key's instant is the caller's, or the newest in its log when that is later. Floats are returned as
# strings (Lua numbers would be truncated to integers on the way out).
# ARGV: the instant, the member, then a (window, limit) pair per key.
_LUA = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local at = {}
local wait = -1
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  local instant = now
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] and tonumber(newest[2]) > instant then
    instant = tonumber(newest[2])
  end
  at[i] = instant
  redis.call('ZREMRANGEBYSCORE', key, '-inf', instant - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local this_wait = tonumber(oldest[2]) + window - instant
    if this_wait > wait then wait = this_wait end
  end
end
if wait >= 0 then
  return {0, tostring(wait), tostring(at[1])}
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, at[i], member)
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[1 + 2 * i]) * 1000) + 1000)
end
return {1, '0', tostring(at[1])}
"""

#: The script's digest: EVALSHA sends it instead of the script (loaded once per Redis server).
_LUA_SHA = hashlib.sha1(_LUA.encode(), usedforsecurity=False).hexdigest()


def _hit_redis(backend: RedisCache, limits: Sequence[Limit], *, now: float) -> Decision:
    """One EVALSHA on a connection of the cache's own pool.

    Django's cache API has no scripting: this takes the backend's redis-py connection pool
    (``RedisCache._cache``, a private attribute; tests/core/test_ratelimit.py pins it) and speaks to
    a connection directly: redis-py's client object, with its retries and instrumentation around
    every command, costs more CPU than the round trip on the notification intake's path.
    """
    keys = [backend.make_key(one.key) for one in limits]  # ours: no memcached-style validation needed
    args: list[Any] = [repr(now), secrets.token_hex(8)]
    for one in limits:
        args += [repr(float(one.window)), one.limit]
    cache_client: Any = backend._cache
    pool = cache_client._get_connection_pool(write=True)
    connection = pool.get_connection()
    try:
        try:
            reply = _evalsha(connection, keys, args)
        except NoScriptError:  # a restarted or flushed Redis: load the script, once
            connection.send_command("SCRIPT", "LOAD", _LUA)
            connection.read_response()
            reply = _evalsha(connection, keys, args)
    except (RedisConnectionError, RedisTimeoutError):
        connection.disconnect()  # never handed out again half-read
        raise
    finally:
        pool.release(connection)
    allowed, retry_after, at = reply
    return Decision(bool(int(allowed)), max(0.0, float(retry_after)), float(at))


def _evalsha(connection: Any, keys: list[str], args: list[Any]) -> Any:
    connection.send_command("EVALSHA", _LUA_SHA, len(keys), *keys, *args)
    return connection.read_response()
