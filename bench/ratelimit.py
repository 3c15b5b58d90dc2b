"""The one rate limiter (core.ratelimit.hit) against a fixed-window counter, under real concurrency.

Not a test: it prints figures. Run from the project root::

    .venv/bin/python bench/ratelimit.py                              # file cache, and Redis if it answers
    .venv/bin/python bench/ratelimit.py --redis redis://127.0.0.1:6379/3 --processes 8 --seconds 3

For each cache (a temporary file cache, the embedded default; Redis when reachable) and each
implementation, ``--processes`` spawned processes (each its own Django) hammer one key with a limit
of ``--limit`` per second for ``--seconds`` seconds after a common start signal, and record the
instant each hit that was let through was decided at (``Decision.at``; the baseline's own clock
read): a caller descheduled after its answer acts later than that, which no limiter can prevent.
Printed per row: the most hits let through
in any one second (sliding: any interval of one second, wherever it starts), the hits let through
in all against what the limit allows over the run, and the decisions per second the processes made.

The baseline is the fixed-window counter cobranca used before (``cache.get`` the count of the
current second, ``cache.set`` it plus one): correct for one caller, not atomic across processes.

Measured 2026-11-30 on the project's 2-core machine shared with other work (limit 10/s, 3 s;
Redis 7.0 on loopback, database 3):

    6 processes
    cache  implementation           most in 1 s  passed / allowed  decisions/s
    file   fixed window (get/set)            70      163 / 40            19,926
    file   core.ratelimit.hit                10       35 / 40            16,598
    redis  fixed window (get/set)            59      116 / 40             1,916
    redis  core.ratelimit.hit                10       30 / 40             2,761
    8 processes
    file   fixed window (get/set)           112      203 / 40            30,864
    file   core.ratelimit.hit                10       36 / 40            15,432
    redis  fixed window (get/set)           133      243 / 40             1,272
    redis  core.ratelimit.hit                10       30 / 40               916

Before the instant was read under the file lock (and clamped to the log's newest on Redis), the
same run, counting the instant each caller read just before its call (there was no Decision.at yet),
found 13 (file) and 11 (Redis) in one second: a caller that waited for the lock decided with an
instant already past (tests/core/test_ratelimit.py::test_a_hit_decided_late_... shows how).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))


def fixed_window_hit(cache: Any, key: str, limit: int) -> tuple[bool, float]:
    """The baseline: count this second's hits with a get and a set (two round trips, no lock).
    (allowed, the instant it decided at)."""
    now = time.time()
    bucket = f"{key}:{int(now)}"
    count = cache.get(bucket, 0)
    if count >= limit:
        return False, now
    cache.set(bucket, count + 1, 5)
    return True, now


def hammer(
    caches: dict[str, Any], impl: str, key: str, limit: int, seconds: float, ready: Any, go: Any, out: Any
) -> None:
    """In a spawned process: decide as fast as possible for ``seconds``; report the allowed instants."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.CACHES = caches
    from django.core.cache import cache

    from core.ratelimit import hit

    def ours() -> tuple[bool, float]:
        decision = hit(key, limit=limit, window=1.0)
        return decision.allowed, decision.at

    def baseline() -> tuple[bool, float]:
        return fixed_window_hit(cache, key, limit)

    attempt = ours if impl == "ours" else baseline
    cache.get("warm-up")
    ready.put(os.getpid())
    go.wait(120)
    allowed: list[float] = []
    decisions = 0
    start = time.time()
    while time.time() - start < seconds:
        decisions += 1
        passed, instant = attempt()
        if passed:
            allowed.append(instant)
    out.put((allowed, decisions, start, time.time()))


def run(caches: dict[str, Any], impl: str, *, processes: int, limit: int, seconds: float) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    key = f"bench-{impl}-{time.time_ns()}"
    workers = [
        context.Process(target=hammer, args=(caches, impl, key, limit, seconds, ready, go, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=180)
    go.set()
    results = [out.get(timeout=180) for _ in workers]
    for worker in workers:
        worker.join(10)
    instants = sorted(t for allowed, *_ in results for t in allowed)
    span = max(r[3] for r in results) - min(r[2] for r in results)
    most, left = 0, 0
    for right, instant in enumerate(instants):  # the most instants inside any one-second interval
        while instant - instants[left] >= 1.0:
            left += 1
        most = max(most, right - left + 1)
    return {
        "most": most,
        "passed": len(instants),
        "allowed": limit * (int(span) + 1),
        "rate": sum(r[1] for r in results) / span,
    }


def redis_caches(url: str) -> dict[str, Any] | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        return None
    backend = "django.core.cache.backends.redis.RedisCache"
    return {"default": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": f"bench{os.getpid()}"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    with tempfile.TemporaryDirectory(prefix="ratelimit-bench-") as folder:
        stacks: list[tuple[str, dict[str, Any]]] = [
            (
                "file",
                {
                    "default": {
                        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                        "LOCATION": folder,
                    }
                },
            )
        ]
        redis = redis_caches(args.redis)
        if redis is not None:
            stacks.append(("redis", redis))
        print(
            f"{args.processes} processes, {args.seconds:g} s, limit {args.limit}/s\n"
            f"{'cache':6} {'implementation':24} {'most in 1 s':>11} {'passed / allowed':>17} {'decisions/s':>12}"
        )
        for name, caches in stacks:
            for impl, label in (("baseline", "fixed window (get/set)"), ("ours", "core.ratelimit.hit")):
                figures = run(caches, impl, processes=args.processes, limit=args.limit, seconds=args.seconds)
                print(
                    f"{name:6} {label:24} {figures['most']:>11} "
                    f"{figures['passed']:>8} / {figures['allowed']:<7} {figures['rate']:>12,.0f}"
                )


if __name__ == "__main__":
    main()
