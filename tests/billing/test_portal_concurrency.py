"""The portal's per-address limit under real concurrency: 300 simultaneous requests to a threaded server."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from tests import factories
from tests.core.concurrency import caches_setting, redis_url

REDIS_URL = redis_url()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class Server(ThreadedWSGIServer):
    """Takes every connection at once (a deep backlog) and serves 32 at a time, as a web server's
    worker threads would: the database sees at most 32 connections."""

    request_queue_size = 512
    slots = threading.BoundedSemaphore(32)

    def process_request_thread(self, request, client_address):  # type: ignore[no-untyped-def]
        with self.slots:
            super().process_request_thread(request, client_address)


@pytest.fixture
def server_url(transactional_db) -> Iterator[str]:
    server = Server(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - the loopback server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", ["file", pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="no Redis"))]
)
def test_sixty_per_minute_hold_under_three_hundred_concurrent_requests(kind, server_url, settings, tmp_path):
    settings.CACHES = caches_setting(kind, tmp_path)
    settings.PORTAL_RATE_LIMIT_PER_MINUTE = 60
    customer = factories.CustomerFactory()
    url = f"{server_url}/portal/{customer.portal_token}/"
    start = threading.Barrier(300)

    def request(_: int) -> int:
        start.wait()
        return get_status(url)

    began = time.time()
    with ThreadPoolExecutor(300) as pool:
        statuses = list(pool.map(request, range(300)))
    span = time.time() - began
    allowed = statuses.count(200)
    # On an idle machine the 300 requests take a few seconds: exactly 60 pass. Whatever the span,
    # never more than 60 in each minute it covers.
    assert 60 <= allowed <= 60 * (int(span // 60) + 1), (allowed, span)
    assert statuses.count(429) == 300 - allowed
