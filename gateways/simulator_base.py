"""What both gateway simulators share: a threaded stdlib HTTP server, fault injection, control routes.

Stdlib only (``http.server``, ``urllib``) so a simulator runs in a test's thread and as its own
process alike. Each request is handled in its own thread; latency is a sleep in that thread, so 64
concurrent clients with 500 ms latency take about 500 ms, not 32 s. State changes take a short
lock; nothing sleeps while holding it.

Never used in production: the adapters reach a simulator only because settings point them at it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sim/"
THROTTLE_RETRY_AFTER_SECONDS = 2


@dataclass
class Faults:
    """Faults applied to gateway routes (never to control routes)."""

    latency_ms: int = 0
    fail_rate: float = 0.0  # share of requests answered HTTP 500 before doing anything
    drop_rate: float = 0.0  # share of requests processed, then the connection closed unanswered
    duplicate_notifications: bool = False
    notification_delay_ms: int = 0
    fail_next: int = 0  # the next N gateway requests answer 500 (deterministic, for tests)
    drop_next: int = 0  # the next N gateway requests are processed and left unanswered
    throttle_next: int = 0  # the next N gateway requests answer 429 Too Many Requests, unprocessed

    def update(self, values: Mapping[str, Any]) -> None:
        for item in fields(self):
            if item.name in values and values[item.name] is not None:
                current = getattr(self, item.name)
                setattr(self, item.name, type(current)(values[item.name]))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(data, ensure_ascii=False, default=str).encode())

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), "text/html; charset=utf-8")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    form: dict[str, str]  # form fields (body and query), last value wins
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case

    def json(self) -> dict[str, Any]:
        if not self.body.strip():
            return dict(self.form)
        if "json" in self.content_type:
            data = json.loads(self.body)
            return data if isinstance(data, dict) else {}
        return dict(self.form)


class Dropped(Exception):
    """Raised by a route to close the connection without answering (after doing the work)."""


class SimulatorApp:
    """Base of a simulated gateway: subclasses implement :meth:`route` and :meth:`control`."""

    name = "simulator"

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        self.faults = faults or Faults()
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.base_url = ""
        self.requests_seen = 0

    # --- to implement ----------------------------------------------------------------------------
    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def control(self, request: Request, action: str) -> Response:
        return Response.json({"error": f"unknown control {action}"}, 404)

    def reset(self) -> None:
        """Forget all state (faults too)."""
        self.faults = Faults()

    # --- dispatch --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Control routes answer at once; gateway routes get latency, 500s and drops first."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        with self.lock:
            self.requests_seen += 1
            throttle = self._roll("throttle_next", 0.0)
            fail = not throttle and self._roll("fail_next", self.faults.fail_rate)
            drop = not (fail or throttle) and self._roll("drop_next", self.faults.drop_rate)
        if self.faults.latency_ms > 0:
            time.sleep(self.faults.latency_ms / 1000)
        if throttle:
            return Response(
                429,
                b'{"success": false, "errorMessage": "Too Many Requests"}',
                headers={"Retry-After": str(THROTTLE_RETRY_AFTER_SECONDS)},
            )
        if fail:
            return Response.json({"success": False, "errorMessage": "Erro interno (simulado)"}, 500)
        response = self.route(request)
        if drop:
            raise Dropped
        return response

    def _roll(self, counter: str, rate: float) -> bool:
        """Caller holds the lock. A pending "next N" fault wins over the random rate."""
        pending = getattr(self.faults, counter)
        if pending > 0:
            setattr(self.faults, counter, pending - 1)
            return True
        return self.random.random() < rate

    def _control(self, request: Request) -> Response:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        if action == "reset" and request.method == "POST":
            with self.lock:
                self.reset()
            return Response.json({"ok": True})
        if action == "faults":
            if request.method == "POST":
                with self.lock:
                    self.faults.update(request.json())
            return Response.json(asdict(self.faults))
        return self.control(request, action)


def post_form(url: str, data: Mapping[str, str], *, timeout: float = 10.0) -> int:
    """POST a form with urllib; the status code, or 0 when the receiver could not be reached."""
    encoded = urllib.parse.urlencode(dict(data)).encode()
    return _post(url, encoded, {"Content-Type": "application/x-www-form-urlencoded"}, timeout)


def post_json(url: str, data: Any, *, headers: Mapping[str, str] | None = None, timeout: float = 10.0) -> int:
    """POST a JSON body with urllib (and extra ``headers``); the status code, or 0 when unreachable."""
    encoded = json.dumps(data, ensure_ascii=False, default=str).encode()
    return _post(url, encoded, {"Content-Type": "application/json", **(headers or {})}, timeout)


def _post(url: str, encoded: bytes, headers: Mapping[str, str], timeout: float) -> int:
    req = urllib.request.Request(  # noqa: S310 - loopback test receivers and configured URLs only
        url, data=encoded, headers=dict(headers)
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the adapters pool connections
    timeout = 60  # idle keep-alive connections are closed after a minute
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stalls
    server: SimulatorServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _read(self, method: str) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        parsed = urllib.parse.urlsplit(self.path)
        form = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        if "x-www-form-urlencoded" in content_type:
            form.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(method, parsed.path, form, body, content_type, headers)

    def _serve(self, method: str) -> None:
        request = self._read(method)
        try:
            response = self.server.app.handle(request)
        except Dropped:
            self.close_connection = True
            return
        except Exception:  # a simulator bug must show as a 500, not hang the client
            logger.exception("simulator %s failed on %s", self.server.app.name, request.path)
            response = Response.json({"success": False, "errorMessage": "Simulator error"}, 500)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # the benchmark opens 64+ connections at once

    def __init__(self, address: tuple[str, int], app: SimulatorApp) -> None:
        super().__init__(address, _Handler)
        self.app = app
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        app.base_url = f"http://{host}:{port}"

    def shutdown(self) -> None:
        """Stop serving and release the port (``serve_forever`` must be running in another thread)."""
        super().shutdown()
        self.server_close()


def start_in_thread(
    app: SimulatorApp, *, host: str = "127.0.0.1", port: int = 0
) -> tuple[SimulatorServer, str]:
    """Serve ``app`` from a daemon thread; returns the server (call ``.shutdown()``) and base URL."""
    server = SimulatorServer((host, port), app)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{app.name}-simulator", daemon=True
    )
    thread.start()
    return server, app.base_url
