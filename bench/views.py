"""The baseline of bench/notifications.py: the notification endpoints' stack storing the body, nothing else."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import Notification


class BaselineView(APIView):
    """A bare DRF view with the notification endpoints' classes: reads the body, stores one row."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    parser_classes = [FormParser]
    renderer_classes = [JSONRenderer]

    def post(self, request: Request) -> Response:
        django_request = request._request
        text = django_request.read(settings.NOTIFICATION_MAX_BODY_BYTES + 1).decode("utf-8", "replace")
        notification = Notification.objects.create(gateway="bench", path=django_request.path, body=text)
        return Response({"status": "received", "notification": notification.pk, "detail": ""})
