"""Gateway notification endpoints: read the raw request, call one service, shape the answer.

No authentication and no CSRF: gateways are anonymous machines. What protects the product is in
the service: the URL carries the account's unguessable public id, intake limits per address and per
account, Juno's fields are only a hint checked against the gateway itself (in a task, after the
answer), and Mycontas' credentials must match.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import (
    AsaasWebhookBody,
    JunoNotificationForm,
    LegacyJunoNotificationForm,
    MycontasReturnForm,
    NotificationAnswer,
    NotificationError,
)
from billing.services.notifications import InboundRequest, NotificationResult, Outcome, notification_receive
from gateways.asaas.client import WEBHOOK_TOKEN_HEADER
from gateways.base import ASAAS, JUNO, MYCONTAS

logger = logging.getLogger(__name__)

STATUS_BY_OUTCOME = {
    Outcome.RECEIVED: 200,
    Outcome.INVALID: 400,
    Outcome.UNAUTHORIZED: 401,
    Outcome.FORBIDDEN: 403,
    Outcome.NOT_FOUND: 404,
    Outcome.LIMITED: 429,
    Outcome.OVERFLOW: 503,
    Outcome.UNAVAILABLE: 503,
}
#: When the database itself could not store the notification.
RETRY_AFTER_SECONDS = 120


def _read_up_to(stream: Any, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def inbound_request(request: HttpRequest) -> InboundRequest:
    """The raw request, reading at most one byte past the body limit (never the whole of a huge body).

    A chunked body (no Content-Length) is read from the server's decoded stream when the server
    says it ends it (``wsgi.input_terminated``, as gunicorn does); Django's own stream reads
    nothing without a Content-Length. Anywhere else it is marked unreadable (stored invalid).
    """
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    meta = request.META
    raw_length = meta.get("CONTENT_LENGTH")
    try:
        declared: int | None = int(raw_length) if raw_length not in (None, "") else None
    except ValueError:
        declared = None
    chunked = "chunked" in str(meta.get("HTTP_TRANSFER_ENCODING", "")).lower()
    unreadable = False
    if hasattr(request, "_body"):  # already read by someone: take what is there
        body = request.body[: limit + 1]
    elif declared is None and chunked:
        if meta.get("wsgi.input_terminated"):
            body = _read_up_to(meta["wsgi.input"], limit + 1)
        else:
            body, unreadable = b"", True
    else:
        body = request.read(min(limit + 1, declared or 0))
    return InboundRequest(
        path=request.path,
        headers=dict(request.headers),
        body=body,
        content_type=(request.content_type or "").lower(),
        charset=(request.content_params or {}).get("charset", ""),
        declared_length=declared,
        remote_addr=meta.get("REMOTE_ADDR"),
        unreadable=unreadable,
    )


def answer(result: NotificationResult) -> Response:
    notification = result.notification
    body: dict[str, Any] = {
        "status": notification.status if notification is not None else None,
        "notification": notification.pk if notification is not None else None,
        "detail": result.message,
    }
    if result.errors:
        body["errors"] = result.errors
    headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
    return Response(body, status=STATUS_BY_OUTCOME.get(result.outcome, 500), headers=headers)


def unavailable() -> Response:
    return Response(
        {"detail": _("The notification could not be stored; please send it again."), "notification": None},
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


#: The ``Retry-After`` header of the 429 and 503 answers, in the schema.
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    type=int,
    location=OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before sending it again.",
)
ERRORS = {
    400: OpenApiResponse(
        NotificationError,
        description="Malformed: missing or too long fields, not form-encoded, "
        "or a body over NOTIFICATION_MAX_BODY_BYTES. Stored as invalid.",
    ),
    404: OpenApiResponse(
        NotificationError,
        description="No bank account matches the URL. Stored without an account, the body truncated.",
    ),
    429: OpenApiResponse(
        NotificationError,
        description="Too many posts from this address or to this account in the current window "
        "(NOTIFICATION_ADDRESS_LIMIT, NOTIFICATION_ACCOUNT_LIMIT). Not stored; send it again after "
        "Retry-After seconds.",
    ),
    503: OpenApiResponse(
        NotificationError,
        description="Send it again after Retry-After seconds: too many notifications of this account "
        "wait for verification (NOTIFICATION_WAITING_CAP; stored as overflow, never processed), or "
        "the cache, the broker or the database is unavailable (stored when it could be: the sweep "
        "processes it).",
    ),
}
ACCEPTED = OpenApiResponse(
    NotificationAnswer,
    description="Stored and queued: the gateway is asked and the payment applied in a task. "
    "A token the gateway does not know ends rejected in the inbox; nothing forged is ever applied.",
)
ANSWERS = (400, 404, 429, 503)
#: MK-Auth's path answers the same whether or not the charge it names exists: never 404.
LEGACY_ANSWERS = (400, 429, 503)


class NotificationView(APIView):
    """The base of every notification endpoint; subclasses name the gateway and the schema."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    parser_classes = [FormParser]
    renderer_classes = [JSONRenderer]

    def receive(self, request: Request, gateway: str, public_id: str | None) -> Response:
        try:
            result = notification_receive(
                gateway=gateway, public_id=public_id, request=inbound_request(request._request)
            )
        except DatabaseError:
            logger.exception("notification to %s could not be stored or processed", request.path)
            return unavailable()
        return answer(result)


class JunoNotificationView(NotificationView):
    @extend_schema(
        operation_id="juno_notification",
        summary="Juno payment notification",
        description="Boleto Fácil's POST on every payment event, answered once it is stored. The fields "
        "are a hint: in a task, the payment token is checked with fetch-payment-details and only that "
        "answer changes anything.",
        request={"application/x-www-form-urlencoded": JunoNotificationForm},
        responses={200: ACCEPTED, **{code: ERRORS[code] for code in ANSWERS}},
        parameters=[RETRY_AFTER],
        examples=[
            OpenApiExample(
                "payment",
                value={
                    "paymentToken": "1A2B3C4D5E",
                    "chargeReference": "T-0123456789ABCDEF",
                    "chargeCode": "1234",
                },
                request_only=True,
            )
        ],
        tags=["notifications"],
        auth=[],
    )
    def post(self, request: Request, public_id: str) -> Response:
        return self.receive(request, JUNO, public_id)


class LegacyJunoNotificationView(NotificationView):
    """MK-Auth's path: the bank account is found through the charge the hint names."""

    @extend_schema(
        operation_id="juno_notification_mkauth",
        summary="Juno payment notification (MK-Auth's path)",
        description="The same as the account path, for installations that pasted MK-Auth's URL into "
        "the gateway. The bank account is the one of the charge named by chargeReference, found in "
        "the task: the answer is the same whether or not that charge exists. Posts on this path share "
        "one intake budget and one waiting cap.",
        request={"application/x-www-form-urlencoded": LegacyJunoNotificationForm},
        responses={200: ACCEPTED, **{code: ERRORS[code] for code in LEGACY_ANSWERS}},
        parameters=[RETRY_AFTER],
        tags=["notifications"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        return self.receive(request, JUNO, None)


class MycontasReturnView(NotificationView):
    @extend_schema(
        operation_id="mycontas_return",
        summary="Mycontas return POST",
        description="Mycontas' return after registering a charge, answered once it is stored: in a "
        "task, the charge named by txtReferencia gets its number and page and becomes issued. The "
        "account code and password must match (checked before answering).",
        request={"application/x-www-form-urlencoded": MycontasReturnForm},
        responses={
            200: ACCEPTED,
            403: OpenApiResponse(
                NotificationError, description="The account code or password does not match. Nothing changed."
            ),
            **{code: ERRORS[code] for code in ANSWERS},
        },
        parameters=[RETRY_AFTER],
        tags=["notifications"],
        auth=[],
    )
    def post(self, request: Request, public_id: str) -> Response:
        return self.receive(request, MYCONTAS, public_id)


class AsaasNotificationView(NotificationView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="asaas_webhook",
        summary="Asaas webhook",
        description="Asaas' POST on every payment event, answered once it is stored. The token header must "
        "be the bank account's webhook token (compared in constant time, before answering; stored only "
        "as a keyed hash). The body is a hint: in a task, the payment is read again from Asaas and only "
        "that answer changes anything; an event id already applied is acknowledged without asking again.",
        request={"application/json": AsaasWebhookBody},
        responses={
            200: ACCEPTED,
            401: OpenApiResponse(
                NotificationError,
                description="The token header is missing or is not the account's webhook token. Stored as "
                "rejected; nothing changed.",
            ),
            **{code: ERRORS[code] for code in ANSWERS},
            400: OpenApiResponse(
                NotificationError,
                description="Malformed: not a JSON object, no event or no payment id, a field that is not "
                "a string or too long, not application/json, or a body over NOTIFICATION_MAX_BODY_BYTES. "
                "Stored as invalid.",
            ),
        },
        parameters=[
            RETRY_AFTER,
            OpenApiParameter(
                WEBHOOK_TOKEN_HEADER,
                type=str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="The webhook token set for the account at Asaas and on its bank account page "
                "(answered 401 when missing or wrong).",
            ),
        ],
        examples=[
            OpenApiExample(
                "payment received",
                value={
                    "id": "evt_05b708f961d739ea7eba7e4db318f621&368604920",
                    "event": "PAYMENT_RECEIVED",
                    "payment": {"id": "pay_080225913252", "externalReference": "T-0123456789ABCDEF"},
                },
                request_only=True,
            )
        ],
        tags=["notifications"],
        auth=[],
    )
    def post(self, request: Request, public_id: str) -> Response:
        return self.receive(request, ASAAS, public_id)


class AnyGatewayNotificationView(NotificationView):
    """``reverse("notification", gateway=..., public_id=...)``: dispatches by the gateway's name."""

    @extend_schema(exclude=True)
    def post(self, request: Request, gateway: str, public_id: str) -> Response:
        return self.receive(request, gateway, public_id)


class UnknownNotificationPathView(NotificationView):
    """Anything else under /api/notifications/ (an empty id, extra segments): a JSON 404, not HTML."""

    @extend_schema(exclude=True)
    def post(self, request: Request, rest: str = "") -> Response:
        return Response({"detail": _("No notification endpoint here."), "notification": None}, status=404)

    get = put = patch = delete = post
