"""The subscriber portal: one page per customer, reached through an unguessable, revocable link."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing.models import Charge
from billing.portal.selectors import current_provider, portal_customer, portal_page
from billing.printing.selectors import slips_for_carne, slips_for_charge
from billing.printing.views import render_slips
from billing.services import service_status
from billing.services.second_copy import charge_second_copy
from billing.templatetags.money import brl
from core import ratelimit
from core.dates import today
from core.errors import ApplicationError
from customers.models import Customer

#: Subscribers are in Brazil: the portal speaks Brazilian Portuguese whatever the browser asks.
PORTAL_LANGUAGE = "pt-br"
#: The portal's limit counts requests per client address over this many seconds.
WINDOW_SECONDS = 60
#: Seconds a subscriber is asked to wait when the limiter's store (Redis) is unreachable.
UNAVAILABLE_RETRY_SECONDS = 30


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


def _limited(request: HttpRequest, *, scope: str, limit: int) -> HttpResponse | None:
    """The page to answer when this address is over ``limit`` requests a minute, else None."""
    # REMOTE_ADDR only: config.proxy rewrites it from a trusted proxy's X-Real-IP; any header the
    # client sends itself is whatever the client wants it to be.
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    try:
        decision = ratelimit.hit(f"{scope}:{address}", limit=limit, window=WINDOW_SECONDS)
    except ratelimit.LimiterUnavailable:
        response = _notice(request, "portal/unavailable.html", status=503)
        response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response
    if not decision.allowed:
        response = _notice(request, "portal/rate_limited.html", status=429)
        response["Retry-After"] = decision.retry_after_header
        return response
    return None


def _customer_or_refusal(request: HttpRequest, token: str) -> Customer | HttpResponse:
    """The token's customer, or the page to answer instead (rate limited, or not found)."""
    refused = _limited(request, scope="portal", limit=settings.PORTAL_RATE_LIMIT_PER_MINUTE)
    if refused is not None:
        return refused
    customer = portal_customer(token)
    if customer is None:
        return _notice(request, "portal/not_found.html", status=404)
    return customer


#: ``?desbloqueio=`` after the trust unblock button: "ok", or the refusal's code.
TRUST_OUTCOME_PARAM = "desbloqueio"


@require_GET
@_private_page
def portal(request: HttpRequest, token: str) -> HttpResponse:
    customer = _customer_or_refusal(request, token)
    if isinstance(customer, HttpResponse):
        return customer
    page = portal_page(customer=customer, today=today())
    outcome = request.GET.get(TRUST_OUTCOME_PARAM, "")
    return render(request, "portal/page.html", {"page": page, "trust_outcome": outcome})


@csrf_exempt
@require_POST
@_private_page
def second_copy(request: HttpRequest, token: str, charge_id: int) -> HttpResponse:
    """The subscriber asks for a second copy of an overdue boleto (at most one a day per boleto).

    Not CSRF-protected, deliberately: the unguessable token in the URL is the only credential (the
    portal sets no cookie), so a forged request has no ambient authority to borrow; and the portal's
    no-referrer policy makes browsers post "Origin: null", which the CSRF check would refuse.
    """
    customer = _customer_or_refusal(request, token)
    if isinstance(customer, HttpResponse):
        return customer
    day = today()
    notice, status = "", 200
    refused = _limited(request, scope="second_copy", limit=settings.PORTAL_SECOND_COPY_LIMIT_PER_MINUTE)
    if refused is not None and refused.status_code != 429:
        return refused
    if refused is not None:
        notice, status = gettext("Too many requests. Wait a minute and try again."), 429
    elif not Charge.objects.filter(pk=charge_id, customer=customer).exists():
        return _notice(request, "portal/not_found.html", status=404)
    else:
        try:
            new = charge_second_copy(
                charge_id=charge_id, today=day, provider=current_provider(), by_subscriber=True
            )
        except ApplicationError as error:
            notice, status = error.message, 409
        else:
            notice = gettext(
                "Your second copy of %(amount)s, due %(date)s, is being issued: it appears below in a moment."
            ) % {"amount": brl(new.amount), "date": new.due_date.strftime("%d/%m/%Y")}
    page = portal_page(customer=customer, today=day)
    response = render(
        request,
        "portal/page.html",
        {"page": page, "notice": notice, "notice_ok": status == 200},
        status=status,
    )
    if refused is not None:
        response["Retry-After"] = refused["Retry-After"]
    return response


@require_GET
@_private_page
def charge_print(request: HttpRequest, token: str, charge_id: int) -> HttpResponse:
    """A subscriber prints one of their open boletos (the CPF is masked as on the portal)."""
    customer = _customer_or_refusal(request, token)
    if isinstance(customer, HttpResponse):
        return customer
    book = slips_for_charge(charge_id=charge_id, today=today(), customer_id=customer.pk)
    if book is None:
        return _notice(request, "portal/not_found.html", status=404)
    return render_slips(request, book, back_url=reverse("portal:page", args=[token]))


@require_GET
@_private_page
def carne_print(request: HttpRequest, token: str, carne_id: int) -> HttpResponse:
    """A subscriber prints the open installments of a carnê, one slip each."""
    customer = _customer_or_refusal(request, token)
    if isinstance(customer, HttpResponse):
        return customer
    book = slips_for_carne(carne_id=carne_id, today=today(), customer_id=customer.pk)
    if book is None or not book.slips:
        return _notice(request, "portal/not_found.html", status=404)
    return render_slips(request, book, back_url=reverse("portal:page", args=[token]))


@csrf_exempt
@require_POST
@_private_page
def trust_unblock(request: HttpRequest, token: str) -> HttpResponse:
    """The subscriber's "Desbloqueio de confiança" button; the page then says what happened.

    No CSRF token: the portal sends no Referer and an ``Origin: null`` (its pages are
    ``no-referrer``), which Django's check refuses, and a forged POST would need the unguessable
    token in the URL, which is the very secret the check protects.
    """
    customer = _customer_or_refusal(request, token)
    if isinstance(customer, HttpResponse):
        return customer
    try:
        service_status.trust_unblock_grant(customer_id=customer.pk, actor_label="portal")
    except service_status.TrustUnblockRefused as refused:
        outcome = refused.code
    else:
        outcome = "ok"
    return redirect(f"{reverse('portal:page', args=[token])}?{TRUST_OUTCOME_PARAM}={outcome}#service")
