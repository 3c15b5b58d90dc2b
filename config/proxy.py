"""The client's address behind our own reverse proxy.

nginx (deploy/nginx/cobranca.conf) connects to gunicorn from 127.0.0.1 and sends the client's
address in ``X-Real-IP``. Login lockouts (django-axes), the portal's rate limit and the stored
source address of notifications all read ``REMOTE_ADDR``; without this every request would seem to
come from 127.0.0.1. The header is believed only from the proxies in ``TRUSTED_PROXY_IPS``, so a
client talking to gunicorn directly cannot choose its address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class RealIPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.get("HTTP_X_REAL_IP", "").strip()
        if forwarded and peer in settings.TRUSTED_PROXY_IPS and _valid_ip(forwarded):
            request.META["REMOTE_ADDR"] = forwarded
        return self.get_response(request)
