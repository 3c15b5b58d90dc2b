"""Staff print pages for a boleto and a whole carnê (the subscriber's are in billing.portal.views)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from billing.printing.selectors import SlipBook, slips_for_carne, slips_for_charge
from core.dates import today

TEMPLATE = "billing/print/slips.html"


def render_slips(request: HttpRequest, book: SlipBook | None, *, back_url: str = "") -> HttpResponse:
    """The A4 print page of ``book``; 404 when there is nothing to print."""
    if book is None or not book.slips:
        raise Http404
    response = render(request, TEMPLATE, {"book": book, "back_url": back_url})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_member_required
def charge_print(request: HttpRequest, charge_id: int) -> HttpResponse:
    if not request.user.has_perm("billing.view_charge"):
        raise PermissionDenied
    book = slips_for_charge(charge_id=charge_id, today=today())
    return render_slips(request, book, back_url=reverse("admin:billing_charge_change", args=[charge_id]))


@require_GET
@staff_member_required
def carne_print(request: HttpRequest, carne_id: int) -> HttpResponse:
    if not request.user.has_perm("billing.view_carne"):
        raise PermissionDenied
    book = slips_for_carne(carne_id=carne_id, today=today())
    return render_slips(request, book, back_url=reverse("admin:billing_carne_change", args=[carne_id]))
