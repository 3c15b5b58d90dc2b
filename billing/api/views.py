"""Gateway notification endpoints: read the raw request, call one service, shape the answer.

No authentication, no CSRF, no throttling: gateways are anonymous machines. What protects the
product is in the service: the URL carries the account's unguessable public id, Juno's fields are
only a hint checked against the gateway itself, and Mycontas' credentials must match.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api.serializers import (
    JunoNotificationForm,
    LegacyJunoNotificationForm,
    MycontasReturnForm,
    NotificationAnswer,
    NotificationError,
)
from billing.services.notifications import InboundRequest, NotificationResult, Outcome, notification_receive
from gateways.base import JUNO, MYCONTAS

logger = logging.getLogger(__name__)

STATUS_BY_OUTCOME = {
    Outcome.PROCESSED: 200,
    Outcome.INVALID: 400,
    Outcome.UNAUTHORIZED: 401,
    Outcome.FORBIDDEN: 403,
    Outcome.NOT_FOUND: 404,
    Outcome.REJECTED: 422,
    Outcome.FAILED: 422,
}
RETRY_AFTER_SECONDS = "120"


def inbound_request(request: HttpRequest) -> InboundRequest:
    """The raw request, reading at most one byte past the body limit (never the whole of a huge body)."""
    limit = settings.NOTIFICATION_MAX_BODY_BYTES
    try:
        declared: int | None = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = None
    if hasattr(request, "_body"):  # already read by someone: take what is there
        body = request.body[: limit + 1]
    else:
        body = request.read(limit + 1 if declared is None else min(limit + 1, declared))
    return InboundRequest(
        path=request.path,
        headers=dict(request.headers),
        body=body,
        content_type=(request.content_type or "").lower(),
        charset=(request.content_params or {}).get("charset", ""),
        declared_length=declared,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )


def answer(result: NotificationResult) -> Response:
    notification = result.notification
    body: dict[str, Any] = {
        "status": notification.status,
        "notification": notification.pk,
        "detail": result.message,
    }
    if result.outcome == Outcome.RETRYING:
        if result.queued:
            return Response(body, status=200)
        body["detail"] = _(
            "The gateway could not be asked and no retry could be queued: please send it again."
        )
        return Response(body, status=503, headers={"Retry-After": RETRY_AFTER_SECONDS})
    if result.errors:
        body["errors"] = result.errors
    return Response(body, status=STATUS_BY_OUTCOME.get(result.outcome, 422))


def unavailable() -> Response:
    return Response(
        {"detail": _("The notification could not be stored; please send it again."), "notification": None},
        status=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


ERRORS = {
    400: OpenApiResponse(
        NotificationError,
        description="Malformed: missing or too long fields, not form-encoded, "
        "or a body over NOTIFICATION_MAX_BODY_BYTES. Stored as invalid.",
    ),
    404: OpenApiResponse(
        NotificationError,
        description="No bank account matches the URL (or, on the MK-Auth "
        "path, the charge named). Stored without an account.",
    ),
    422: OpenApiResponse(
        NotificationError,
        description="Refused after checking: the gateway does not know the "
        "payment token, the hint does not match the gateway's payment, or no charge here "
        "matches it. Nothing changed.",
    ),
    503: OpenApiResponse(
        NotificationError,
        description="The notification could not be stored, or the gateway "
        "could not be asked and no retry could be queued: send it again.",
    ),
}
ACCEPTED = OpenApiResponse(
    NotificationAnswer,
    description="Stored and processed, or stored and queued for a "
    "retry because the gateway could not be asked.",
)


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
        description="Boleto Fácil's POST on every payment event. The fields are a hint: the payment "
        "token is checked with fetch-payment-details and only that answer changes anything.",
        request={"application/x-www-form-urlencoded": JunoNotificationForm},
        responses={200: ACCEPTED, **{code: ERRORS[code] for code in (400, 404, 422, 503)}},
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
        "the gateway. The bank account is the one of the charge named by chargeReference.",
        request={"application/x-www-form-urlencoded": LegacyJunoNotificationForm},
        responses={200: ACCEPTED, **{code: ERRORS[code] for code in (400, 404, 422, 503)}},
        tags=["notifications"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        return self.receive(request, JUNO, None)


class MycontasReturnView(NotificationView):
    @extend_schema(
        operation_id="mycontas_return",
        summary="Mycontas return POST",
        description="Mycontas' return after registering a charge: the charge named by txtReferencia "
        "gets its number and page and becomes issued. The account code and password must match.",
        request={"application/x-www-form-urlencoded": MycontasReturnForm},
        responses={
            200: ACCEPTED,
            403: OpenApiResponse(
                NotificationError, description="The account code or password does not match. Nothing changed."
            ),
            **{code: ERRORS[code] for code in (400, 404, 422, 503)},
        },
        tags=["notifications"],
        auth=[],
    )
    def post(self, request: Request, public_id: str) -> Response:
        return self.receive(request, MYCONTAS, public_id)


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
