"""Helpers for the limiter's concurrency tests: cache settings per backend and spawned hammering processes."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import time
from typing import Any


def redis_url() -> str:
    """A reachable Redis: CACHE_URL or CELERY_BROKER_URL when they name one, else the loopback one."""
    import redis

    candidates = [os.environ.get(name, "") for name in ("CACHE_URL", "CELERY_BROKER_URL")]
    candidates.append("redis://127.0.0.1:6379/0")
    for candidate in candidates:
        url = candidate.replace("rediscache://", "redis://")
        if not url.startswith("redis://"):
            continue
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
        except redis.exceptions.RedisError:
            continue
        return url
    return ""


def caches_setting(kind: str, directory: Any) -> dict[str, Any]:
    """CACHES for ``kind`` (file, locmem, redis) with a key prefix of its own (runs never share keys)."""
    prefix = f"t{secrets.token_hex(6)}"
    if kind == "file":
        backend = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(directory),
        }
    elif kind == "locmem":
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
    else:
        backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url()}
    return {"default": {**backend, "KEY_PREFIX": prefix}}


def run_for(duration: float, attempt: Any) -> tuple[int, float, float]:
    """Call ``attempt`` for ``duration`` seconds: (calls that returned True, first start, last end)."""
    passed = 0
    first = time.time()
    while time.time() - first < duration:
        passed += bool(attempt())
    return passed, first, time.time()


def most_allowed(limit: int, window: float, runs: list[tuple[int, float, float]]) -> tuple[int, int]:
    """(hits that passed in all, the most a limit of ``limit`` per ``window`` allows over the runs' span).

    Scheduling on a busy machine may stretch the runs beyond one window: whatever the span, no more
    than ``limit`` may pass in each window it covers.
    """
    passed = sum(run[0] for run in runs)
    span = max(run[2] for run in runs) - min(run[1] for run in runs)
    return passed, limit * (int(span // window) + 1)


def hammer(
    caches: dict[str, Any], target: str, key: str, ready: Any, go: Any, duration: float, out: Any
) -> None:
    """In a spawned process: call the limiter (``target="limiter"``) or an account's gateway budget
    (``"gateway"``, ``key`` is the account id, rated 10/s) for ``duration`` seconds after ``go``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["GATEWAY_RATE_LIMIT_MAX_WAIT_SECONDS"] = "0"
    import django
    from django.conf import settings

    django.setup()
    settings.CACHES = caches
    if target == "limiter":
        from core.ratelimit import hit

        def attempt() -> bool:
            return hit(key, limit=10, window=1.0).allowed
    else:
        from billing.services import ratelimit

        def attempt() -> bool:
            return ratelimit.try_acquire(int(key), 10) == 0.0

    from django.core.cache import cache

    cache.get("warm-up")  # connections and directories exist before the start signal
    ready.put(os.getpid())
    go.wait(60)
    out.put(run_for(duration, attempt))


def hammer_in_processes(
    caches: dict[str, Any], *, target: str, key: str, processes: int = 6
) -> list[tuple[int, float, float]]:
    """Spawned processes (each its own Django) hammer ``key`` for 0.8 s after a common start signal:
    each returns what :func:`run_for` measured."""
    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=hammer, args=(caches, target, key, ready, go, 0.8, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=120)
        go.set()
        return [out.get(timeout=60) for _ in workers]
    finally:
        for worker in workers:
            worker.join(10)
            if worker.is_alive():
                worker.terminate()
