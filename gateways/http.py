"""The one place that talks HTTP to a gateway (the only module importing ``requests``).

Every call goes through :meth:`FormPoster.post` (form POSTs: Juno, Mycontas) or
:meth:`JsonClient.request` (JSON over GET/POST/DELETE: Asaas): it sends the request, times it, turns
transport failures into :class:`GatewayUnavailable` with an honest ``maybe_sent``, lets the adapter
interpret the answer, and hands the recorder one redacted :class:`Exchange` whatever happened.
Redaction happens here, once, so no adapter can forget it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from gateways.base import (
    Exchange,
    ExchangeRecorder,
    GatewayAnswerInvalid,
    GatewayError,
    GatewayUnavailable,
    RequestInvalid,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

REDACTED = "***"
#: Connections kept per host: the benchmark pushes 64 concurrent calls through one process.
POOL_MAXSIZE = 64

_sessions: dict[str, requests.Session] = {}
_sessions_lock = threading.Lock()


#: HTTP statuses by which a gateway asks the caller to slow down: nothing was done, try later.
THROTTLING_STATUSES = frozenset({429})
#: Words of an error message that mean the same when a gateway says it in a 4xx or a 200 body.
THROTTLING_WORDS = (
    "too many requests",
    "rate limit",
    "limite de requisi",
    "muitas requisi",
    "excesso de requisi",
    "requisições excedid",
)


@dataclass(frozen=True)
class HttpAnswer:
    """What came back, decoded as UTF-8 with any byte-order mark removed."""

    status_code: int
    text: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)  # case-insensitive when from requests


def is_throttling_message(message: str) -> bool:
    """True when a gateway's error message says we called too often (never a final refusal)."""
    lowered = message.casefold()
    return any(word in lowered for word in THROTTLING_WORDS)


def throttled(answer: HttpAnswer, message: str = "") -> GatewayUnavailable:
    """The error for an answer asking us to slow down: retried later, nothing was processed."""
    text = message or str(_("The gateway asked us to slow down (HTTP %(status)d).")) % {
        "status": answer.status_code
    }
    return GatewayUnavailable(
        text,
        maybe_sent=False,
        throttled=True,
        retry_after=_retry_after(answer.headers),
        status_code=answer.status_code,
        raw=answer.text,
    )


def session_for(gateway: str) -> requests.Session:
    """One pooled session per gateway and process, shared by every adapter instance.

    The registry builds an adapter per operation, so a session per instance would open a new
    connection per call. Cookies are refused: one account's session cookie must never ride
    along on another account's call. Retries are off: a resent POST could issue a charge twice.
    """
    with _sessions_lock:
        session = _sessions.get(gateway)
        if session is None:
            session = requests.Session()
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            adapter = HTTPAdapter(
                pool_connections=4, pool_maxsize=POOL_MAXSIZE, max_retries=Retry(total=0, read=False)
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[gateway] = session
        return session


class Redactor:
    """Masks secrets in parameters and scrubs their values from any text (bodies, errors)."""

    def __init__(self, params: Mapping[str, Any], secret_fields: Iterable[str], masked_fields: Iterable[str]):
        self.secret_fields = frozenset(secret_fields)
        self.masked_fields = frozenset(masked_fields)
        values = [str(params.get(name) or "") for name in (*self.secret_fields, *self.masked_fields)]
        # Longest first so that a secret containing another is replaced whole.
        self.values = sorted((v for v in values if len(v) >= 4), key=len, reverse=True)

    def params(self, params: Mapping[str, Any]) -> dict[str, str]:
        clean: dict[str, str] = {}
        for name, value in params.items():
            text = "" if value is None else str(value)
            if name in self.secret_fields and text:
                clean[name] = REDACTED
            elif name in self.masked_fields and text:
                clean[name] = mask(text)
            else:
                clean[name] = self.text(text)
        return clean

    def text(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, REDACTED)
        return text


def mask(value: str) -> str:
    """Last four characters only: enough for staff to match a payment token, not to use it."""
    return f"{REDACTED}{value[-4:]}" if len(value) > 4 else REDACTED


def _scrub(error: GatewayError, redactor: Redactor) -> None:
    """Errors travel on to billing, which stores and shows their message: no secret may ride along."""
    error.message = redactor.text(error.message)
    error.raw = redactor.text(error.raw)
    error.args = (error.message, *error.args[1:])


def _outcome(error: GatewayError | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, GatewayUnavailable):
        return "unavailable"
    if isinstance(error, GatewayAnswerInvalid | RequestInvalid):
        return "invalid"
    return "rejected"


def _never_left(exc: BaseException) -> bool:
    """True when the failure happened while connecting, so no byte of the request was sent."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | NameResolutionError | ConnectTimeoutError):
            return True
        if isinstance(item, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
            return True
        pending.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False


def _interpret(gateway: str, interpret: Callable[[HttpAnswer], T], answer: HttpAnswer) -> T:
    """Run the adapter's parser; a parser crash means an answer we did not understand."""
    try:
        return interpret(answer)
    except GatewayError:
        raise
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("could not read the %s answer: %s", gateway, type(exc).__name__)
        raise GatewayAnswerInvalid(
            str(_("The gateway's answer could not be read (%(error)s).")) % {"error": type(exc).__name__},
            status_code=answer.status_code,
            raw=answer.text,
        ) from exc


def classify_transport_error(exc: requests.RequestException) -> GatewayUnavailable:
    """Connect failures surely did not send; anything later (read timeout, reset) maybe did."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return GatewayUnavailable(str(_("The gateway did not answer in time.")), maybe_sent=True)
    if _never_left(exc):
        return GatewayUnavailable(str(_("Could not connect to the gateway.")), maybe_sent=False)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return GatewayUnavailable(str(_("The gateway URL is invalid; check the settings.")), maybe_sent=False)
    return GatewayUnavailable(
        str(_("The connection to the gateway failed after sending (%(error)s)."))
        % {"error": type(exc).__name__},
        maybe_sent=True,
    )


def _server_failure(answer: HttpAnswer) -> GatewayUnavailable:
    """HTTP 5xx: the gateway may have acted before failing, so the call maybe went through."""
    return GatewayUnavailable(
        str(_("The gateway failed with HTTP %(status)d.")) % {"status": answer.status_code},
        maybe_sent=True,
        status_code=answer.status_code,
        raw=answer.text,
    )


@dataclass(frozen=True)
class _Attempt:
    """One request sent: the answer (None when none came), the adapter's result or the error, and
    how long it all took."""

    answer: HttpAnswer | None
    result: Any
    error: GatewayError | None
    duration_ms: int


class _GatewayCaller:
    """What every client does around its request: classify the status, let the adapter interpret
    the answer, scrub the error, record one redacted exchange, log the call, then return or raise."""

    def __init__(
        self,
        gateway: str,
        *,
        recorder: ExchangeRecorder | None,
        account_id: int | None,
        session: requests.Session | None,
    ) -> None:
        self.gateway = gateway
        self.recorder = recorder
        self.account_id = account_id
        self.session = session or session_for(gateway)

    def _attempt(
        self,
        send: Callable[[], HttpAnswer],
        interpret: Callable[[HttpAnswer], Any],
        *,
        throttle_message: str = "",
    ) -> _Attempt:
        """Send, turn 429 and 5xx into :class:`GatewayUnavailable`, and hand any other answer to
        ``interpret``; a :class:`GatewayError` on the way is kept, not raised (it is recorded first)."""
        started = time.monotonic()
        answer: HttpAnswer | None = None
        result: Any = None
        error: GatewayError | None = None
        try:
            answer = send()
            if answer.status_code in THROTTLING_STATUSES:
                raise throttled(answer, throttle_message)
            if answer.status_code >= 500:
                raise _server_failure(answer)
            result = _interpret(self.gateway, interpret, answer)
        except GatewayError as exc:
            error = exc
        return _Attempt(answer, result, error, int((time.monotonic() - started) * 1000))

    def _conclude(
        self,
        attempt: _Attempt,
        redactor: Redactor,
        *,
        call: tuple[str, ...],
        method: str,
        endpoint: str,
        url: str,
        request_params: Mapping[str, Any],
        reference: str,
        code_of: Callable[[Any], str],
    ) -> Any:
        """Record the attempt (its error scrubbed first), then return its result or raise its error.

        ``call`` names the call in the log line after the gateway; ``url`` and ``request_params``
        are what the exchange shows (``request_params`` already redacted).
        """
        answer, error, duration_ms = attempt.answer, attempt.error, attempt.duration_ms
        gateway_code = code_of(attempt.result) if error is None else ""
        if error is not None:
            _scrub(error, redactor)
        limit = int(settings.GATEWAY_LOG_BODY_LIMIT)
        status = answer.status_code if answer else (error.status_code if error else None)
        exchange = Exchange(
            gateway=self.gateway,
            endpoint=endpoint,
            method=method,
            url=redactor.text(url),
            request_params=request_params,
            status_code=status,
            duration_ms=duration_ms,
            response_body=redactor.text(answer.text[:limit]) if answer else "",
            outcome=_outcome(error),
            error_class=type(error).__name__ if error else "",
            error_message=redactor.text(error.message) if error else "",
            reference=reference,
            gateway_code=gateway_code,
            account_id=self.account_id,
        )
        logger.info(
            "gateway %s" + " %s" * len(call) + " -> %s in %d ms (%s)",
            self.gateway,
            *call,
            status if status is not None else "no answer",
            duration_ms,
            exchange.outcome,
        )
        self._hand_to_recorder(exchange, redactor)
        if error is not None:
            raise error
        return attempt.result

    def _hand_to_recorder(self, exchange: Exchange, redactor: Redactor) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder(exchange)
        except Exception as exc:  # a broken log must not turn an issued charge into a failure
            logger.error(
                "gateway exchange recorder failed (%s: %s); the %s %s call itself went on",
                type(exc).__name__,
                redactor.text(str(exc))[:300],
                self.gateway,
                exchange.endpoint,
            )

    @staticmethod
    def _receive(send: Callable[[], requests.Response]) -> HttpAnswer:
        """Run the request; a transport failure becomes :class:`GatewayUnavailable` (see
        :func:`classify_transport_error`), a body is decoded as UTF-8 without a byte-order mark."""
        try:
            response = send()
            text = response.content.decode("utf-8-sig", errors="replace").lstrip("\ufeff")
        except requests.RequestException as exc:
            raise classify_transport_error(exc) from exc
        return HttpAnswer(
            status_code=response.status_code, text=text, url=response.url, headers=response.headers
        )

    @staticmethod
    def _timeout() -> tuple[float, float]:
        return (float(settings.GATEWAY_CONNECT_TIMEOUT), float(settings.GATEWAY_READ_TIMEOUT))


class FormPoster(_GatewayCaller):
    """Posts forms for one gateway and one account, recording each exchange redacted."""

    def __init__(
        self,
        gateway: str,
        *,
        recorder: ExchangeRecorder | None,
        account_id: int | None,
        secret_fields: Iterable[str] = (),
        masked_fields: Iterable[str] = (),
        follow_redirects: bool = False,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(gateway, recorder=recorder, account_id=account_id, session=session)
        self.secret_fields = tuple(secret_fields)
        self.masked_fields = tuple(masked_fields)
        self.follow_redirects = follow_redirects

    def post(
        self,
        endpoint: str,
        url: str,
        params: Mapping[str, str],
        *,
        interpret: Callable[[HttpAnswer], T],
        reference: str = "",
        code_of: Callable[[T], str] = lambda result: "",
    ) -> T:
        """Send ``params``, let ``interpret`` read the answer, record the exchange, return or raise."""
        attempt = self._attempt(lambda: self._send(url, params), interpret)
        redactor = Redactor(params, self.secret_fields, self.masked_fields)
        result: T = self._conclude(
            attempt,
            redactor,
            call=(endpoint,),
            method="POST",
            endpoint=endpoint,
            url=url,
            request_params=redactor.params(params),
            reference=reference,
            code_of=code_of,
        )
        return result

    def _send(self, url: str, params: Mapping[str, str]) -> HttpAnswer:
        return self._receive(
            lambda: self.session.post(
                url,
                data=dict(params),
                timeout=self._timeout(),
                allow_redirects=self.follow_redirects,
                headers={"Accept": "application/json, text/html;q=0.9"},
            )
        )


# --- JSON APIs ------------------------------------------------------------------------------------
def json_dumps(value: Any) -> str:
    """JSON text where a :class:`Decimal` is written as the number it is, never through a float.

    Money is Decimal up to the wire: ``Decimal("89.90")`` becomes ``89.90``, exactly.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return format(value, "f")
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(key))}:{json_dumps(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_dumps(item) for item in value) + "]"
    if isinstance(value, float):
        raise TypeError("money and rates travel as Decimal, not float")
    return json.dumps(value, ensure_ascii=False)


def _loggable(value: Any, redactor: Redactor) -> Any:
    """A JSON-safe copy for the exchange log: decimals as text, every string scrubbed."""
    if isinstance(value, Mapping):
        return {str(key): _loggable(item, redactor) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_loggable(item, redactor) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return redactor.text(value)
    return value


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or an HTTP date, RFC 9110) or the
    ``RateLimit-Reset`` some gateways send; None when neither says anything usable."""
    for name in ("Retry-After", "RateLimit-Reset"):
        raw = headers.get(name)
        if raw is None:
            continue
        seconds = _seconds_from(str(raw).strip())
        if seconds is not None:
            return seconds
    return None


def _seconds_from(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT; a date without a zone is taken as such
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
        return seconds if seconds > 0 else None
    return seconds if seconds >= 0 else None


class JsonClient(_GatewayCaller):
    """Talks JSON with one gateway for one account, recording each exchange redacted.

    ``headers`` go on every request; the values of those named in ``secret_headers`` (an API key)
    are scrubbed from everything recorded, logged or raised. Bodies are written with
    :func:`json_dumps`; a GET carries no body at all (some gateways refuse a GET with one).
    HTTP 5xx is :class:`GatewayUnavailable` ``maybe_sent=True``; HTTP 429 is
    :class:`GatewayUnavailable` ``maybe_sent=False`` with ``retry_after`` (a rate limit refuses the
    request before doing anything). Every other status goes to the adapter's ``interpret``.
    """

    def __init__(
        self,
        gateway: str,
        *,
        recorder: ExchangeRecorder | None,
        account_id: int | None,
        headers: Mapping[str, str],
        secret_headers: Iterable[str] = (),
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(gateway, recorder=recorder, account_id=account_id, session=session)
        self.headers = dict(headers)
        self.secret_headers = tuple(secret_headers)

    def request(
        self,
        method: str,
        endpoint: str,
        url: str,
        *,
        interpret: Callable[[HttpAnswer], T],
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        reference: str = "",
        code_of: Callable[[T], str] = lambda result: "",
    ) -> T:
        """Send one request, let ``interpret`` read the answer, record the exchange, return or raise."""
        redactor = Redactor(
            {name: self.headers.get(name, "") for name in self.secret_headers}, self.secret_headers, ()
        )
        attempt = self._attempt(
            lambda: self._send(method, url, query or {}, body),
            interpret,
            throttle_message=str(
                _("The gateway refused the call for its rate limit (HTTP 429); try again later.")
            ),
        )
        params: dict[str, Any] = {}
        if query:
            params["query"] = _loggable(dict(query), redactor)
        if body is not None:
            params["body"] = _loggable(body, redactor)
        result: T = self._conclude(
            attempt,
            redactor,
            call=(method, endpoint),
            method=method,
            endpoint=endpoint,
            url=attempt.answer.url if attempt.answer else url,
            request_params=params,
            reference=reference,
            code_of=code_of,
        )
        return result

    def _send(
        self, method: str, url: str, query: Mapping[str, str], body: Mapping[str, Any] | None
    ) -> HttpAnswer:
        headers = {**self.headers, "Accept": "application/json"}
        data: bytes | None = None
        if body is not None and method != "GET":
            data = json_dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return self._receive(
            lambda: self.session.request(
                method,
                url,
                params=dict(query) or None,
                data=data,
                headers=headers,
                timeout=self._timeout(),
                allow_redirects=False,
            )
        )
