"""Staff decisions on one charge that no process of ours can take: each behind a confirmation page,
each recorded in the charge's history (with who) and in the admin's log.

- An ``unknown`` charge whose look-up could not prove it absent: "this one is ours" adopts one of
  the gateway's candidates (a button per candidate, listed on the charge's page); "confirmed absent:
  send again" (with a written reason) resends it.
- A cancel the gateway refused: send the cancel again, or keep the charge issued (with a reason).

The last three are buttons of the charge's page (:mod:`core.object_actions`); adopting names a
candidate, so it has its own page here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.models import Attention, Charge, ChargeState
from billing.services import charges as charge_services
from billing.templatetags.money import brl, linha_digitavel
from core.admin import acting_user, is_confirmed
from core.audit import log_staff_action
from core.errors import ApplicationError
from core.links import safe_gateway_link
from core.object_actions import OBJECT_ACTION_TEMPLATE, ObjectAction
from gateways.registry import supports_listing

CHANGE_CHARGE = "billing.change_charge"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=capfirst(_("reason")),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in the charge's history with your name."),
    )


def _candidate_line(candidate: dict[str, Any]) -> str:
    amount = candidate.get("amount")
    parts = [
        str(_("code %(code)s") % {"code": candidate.get("code", "?")}),
        str(_("due %(date)s") % {"date": candidate.get("due_date") or "?"}),
        brl(amount) if amount else str(_("amount not given")),
        str(_("payer %(document)s") % {"document": candidate.get("payer_document") or "?"}),
    ]
    if candidate.get("linha_digitavel"):
        parts.append(linha_digitavel(str(candidate["linha_digitavel"])))
    return " · ".join(parts)


def _boleto_link(charge: Charge, candidate: dict[str, Any]) -> SafeString | str:
    link = safe_gateway_link(charge.bank_account.gateway, str(candidate.get("link") or ""))
    if not link:
        return ""
    return format_html(' <a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', link, _("boleto"))


def _confirm_absent(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> str:
    charge_services.charge_confirm_absent(charge=charge, actor=acting_user(request), reason=data["reason"])
    return gettext("Confirmed absent at the gateway; sent again. Reason: %(reason)s") % {
        "reason": data["reason"]
    }


def _retry_cancel(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> str:
    charge_services.charge_retry_cancel(charge=charge, actor=acting_user(request))
    return gettext("Cancel sent to the gateway again.")


def _withdraw_cancel(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> str:
    charge_services.charge_withdraw_cancel(charge=charge, actor=acting_user(request), reason=data["reason"])
    return gettext("Cancel withdrawn. Reason: %(reason)s") % {"reason": data["reason"]}


def _cancel_refused(charge: Charge) -> bool:
    return charge.state == ChargeState.CANCEL_REQUESTED and charge.attention == Attention.CANCEL_REFUSED


DECISION_ACTIONS = (
    ObjectAction(
        name="confirm-absent",
        label=_("Confirmed absent: send again"),
        permission=CHANGE_CHARGE,
        when=lambda charge: (
            charge.state == ChargeState.UNKNOWN and supports_listing(charge.bank_account.gateway)
        ),
        question=_(
            "Is this charge surely not at the gateway? It will be sent again: if it was there after all, "
            "the subscriber gets two boletos. Say how you checked."
        ),
        form_class=ReasonForm,
        confirm_label=_("Yes, send it again"),
        perform=_confirm_absent,
        danger=True,
    ),
    ObjectAction(
        name="retry-cancel",
        label=_("Send the cancel again"),
        permission=CHANGE_CHARGE,
        when=_cancel_refused,
        question=_("The gateway refused to cancel this charge. Send the cancel again?"),
        confirm_label=_("Yes, send it again"),
        perform=_retry_cancel,
    ),
    ObjectAction(
        name="keep-issued",
        label=_("Keep it issued"),
        permission=CHANGE_CHARGE,
        when=_cancel_refused,
        question=_(
            "The gateway refused to cancel this charge. Keep it issued (the subscriber can still pay it)?"
        ),
        form_class=ReasonForm,
        confirm_label=_("Yes, keep it issued"),
        perform=_withdraw_cancel,
    ),
)


class ChargeDecisionsMixin:
    """Adds "this one is ours" (per candidate) and the panel on the charge's page that explains the
    decision waiting for staff and lists the gateway's candidates."""

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path("<int:pk>/adopt/<str:code>/", wrap(self.adopt_view), name="billing_charge_adopt"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    @admin.display(description=_("staff decision"))
    def decision_panel(self, obj: Charge) -> SafeString | str:
        if obj.state == ChargeState.UNKNOWN and supports_listing(obj.bank_account.gateway):
            return self._lookup_panel(obj)
        if _cancel_refused(obj):
            return format_html(
                "<p>{}</p>",
                _("The gateway refused the cancel: %(error)s. Send it again or keep the charge issued.")
                % {"error": obj.error_message},
            )
        return "-"

    def _lookup_panel(self, obj: Charge) -> SafeString:
        candidates = charge_services.lookup_candidates(obj)
        record = (obj.gateway_payload or {}).get(charge_services.LOOKUP_KEY) or {}
        rows = format_html_join(
            "",
            '<li>{} <a class="button" href="{}">{}</a>{}</li>',
            (
                (
                    _candidate_line(candidate),
                    reverse("admin:billing_charge_adopt", args=[obj.pk, candidate["code"]]),
                    _("This one is ours"),
                    _boleto_link(obj, candidate),
                )
                for candidate in candidates
                if candidate.get("code")
            ),
        )
        return format_html(
            "<p>{}</p><ul>{}</ul><p>{}</p>",
            record.get("reason") or _("Not looked up at the gateway yet, or no answer yet."),
            rows or format_html("<li>{}</li>", _("No candidate at the gateway.")),
            _(
                "Nothing is sent again until you decide: adopt the gateway's charge that is this one, or "
                "confirm it is not there to send it again."
            ),
        )

    def adopt_view(self, request: HttpRequest, pk: int, code: str) -> HttpResponse:
        charge = get_object_or_404(Charge.objects.select_related("bank_account", "customer"), pk=pk)
        if not request.user.has_perm(CHANGE_CHARGE):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:billing_charge_change", args=[charge.pk]))
        candidate = next(
            (c for c in charge_services.lookup_candidates(charge) if str(c.get("code")) == code), None
        )
        if candidate is None:
            self.message_user(  # type: ignore[attr-defined]
                request,
                gettext("%(code)s is not among the gateway's candidates for %(reference)s.")
                % {"code": code, "reference": charge.reference},
                messages.ERROR,
            )
            return back
        if not is_confirmed(request):
            context = {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "title": _("This one is ours"),
                "subtitle": str(charge),
                "object": charge,
                "opts": Charge._meta,
                "question": gettext(
                    "Record the gateway's charge %(code)s as %(reference)s (%(customer)s)? Its code, link "
                    "and linha digitável become this charge's; it is issued and never sent again."
                )
                % {"code": code, "reference": charge.reference, "customer": charge.customer.name},
                "items": [_candidate_line(candidate)],
                "confirm_label": _("Yes, this one is ours"),
                "danger": False,
                "form": None,
                "back_url": back.url,
            }
            return TemplateResponse(request, OBJECT_ACTION_TEMPLATE, context)
        try:
            charge_services.charge_adopt_candidate(charge=charge, code=code, actor=acting_user(request))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)  # type: ignore[attr-defined]
            return back
        done = gettext("Gateway charge %(code)s recorded as this one.") % {"code": code}
        log_staff_action(user=request.user, objects=charge, message=done)
        self.message_user(request, done, messages.SUCCESS)  # type: ignore[attr-defined]
        return back
