"""The subscriber portal: one page per customer, reached through an unguessable, revocable link."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from billing.portal.ratelimit import WINDOW_SECONDS, over_limit
from billing.portal.selectors import current_provider, portal_customer, portal_page
from billing.services.dates import today

#: Subscribers are in Brazil: the portal speaks Brazilian Portuguese whatever the browser asks.
PORTAL_LANGUAGE = "pt-br"


def _private_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Never cached anywhere, never leaks the tokened URL as a Referer, never indexed."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        with translation.override(PORTAL_LANGUAGE):
            response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _notice(request: HttpRequest, template: str, *, status: int) -> HttpResponse:
    """A plain page (no stack, nothing about any customer) under the provider's name."""
    return render(request, template, {"provider": current_provider()}, status=status)


@require_GET
@_private_page
def portal(request: HttpRequest, token: str) -> HttpResponse:
    if over_limit(request, scope="portal", limit=settings.PORTAL_RATE_LIMIT_PER_MINUTE):
        response = _notice(request, "portal/rate_limited.html", status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    customer = portal_customer(token)
    if customer is None:
        return _notice(request, "portal/not_found.html", status=404)
    page = portal_page(customer=customer, today=today())
    return render(request, "portal/page.html", {"page": page})
