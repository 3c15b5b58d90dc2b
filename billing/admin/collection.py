"""Staff tools on the charge and payment pages: record a payment (*baixa manual*), issue a second
copy (*segunda via*), print the boleto, and undo a payment recorded by mistake.

The charge page's tools are object actions (core/object_actions.py): buttons shown only to who may
use them and only when the charge's state allows it, each confirmed on its own page, checked again
when posted and written to the charge's history. Operators record payments and issue second copies,
readers do neither; only superusers undo a payment (on the payment's page).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from billing.models import Charge, Payment, PaymentMethod
from billing.services import manual_payments, second_copy
from billing.services.amounts import charge_amount_due
from billing.templatetags.money import brl
from core.admin import acting_user
from core.audit import ADDITION, log_staff_action
from core.dates import today
from core.errors import ApplicationError
from core.object_actions import ObjectAction
from providers.selectors import current_provider

RECORD_PERMISSION = "billing.change_charge"
SECOND_COPY_PERMISSION = "billing.add_charge"


def may_undo_payment(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


class ManualPaymentForm(forms.Form):
    """What staff fill in for a payment they received: amount, date, method, a note."""

    amount = forms.DecimalField(
        label=capfirst(_("amount")), max_digits=12, decimal_places=2, min_value=Decimal("0.01"), localize=True
    )
    paid_on = forms.DateField(
        label=_("Payment date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    method = forms.ChoiceField(label=capfirst(_("method")), choices=PaymentMethod.choices)
    note = forms.CharField(
        label=capfirst(_("note")),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. who received it, a receipt or PIX transaction number."),
    )
    #: One key per form shown: submitting the same form twice records one payment.
    form_key = forms.CharField(widget=forms.HiddenInput)


class UndoPaymentForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this payment undone?"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


def _charge_facts(charge: Charge) -> list[tuple[StrOrPromise, str]]:
    return [
        (_("customer"), f"{charge.customer.name} · {charge.customer.document_display}"),
        (_("amount"), brl(charge.amount)),
        (_("due date"), charge.due_date.strftime("%d/%m/%Y")),
        (_("state"), str(charge.get_state_display())),
    ]


def _payment_facts(charge: Charge) -> list[tuple[StrOrPromise, str]]:
    return [*_charge_facts(charge), (_("amount due today"), brl(charge_amount_due(charge, on=today())))]


def _payment_initial(charge: Charge) -> dict[str, Any]:
    return {
        "amount": charge_amount_due(charge, on=today()),
        "paid_on": today(),
        "method": PaymentMethod.CASH,
        "form_key": uuid.uuid4().hex,
    }


def _record_payment(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> StrOrPromise:
    outcome = manual_payments.payment_record_manual(
        charge_id=charge.pk,
        actor=request.user,  # type: ignore[arg-type]  # the admin's views are for signed-in staff
        today=today(),
        **data,
    )
    if not outcome.created:
        raise ApplicationError(gettext("This payment had already been recorded; nothing was added."))
    if outcome.cancel_queued:
        messages.info(request, _("The boleto is being cancelled at the gateway so it cannot be paid twice."))
    return _("Payment of %(amount)s recorded (%(method)s).") % {
        "amount": brl(outcome.payment.amount),
        "method": outcome.payment.get_method_display(),
    }


def _second_copy_offered(charge: Charge) -> bool:
    return not second_copy.refusal(charge, today=today())


def _second_copy_facts(charge: Charge) -> list[tuple[StrOrPromise, str]]:
    offer = second_copy.quote(charge, today=today(), provider=current_provider())
    return [
        *_charge_facts(charge),
        (_("new amount (due today)"), brl(offer.amount)),
        (_("new due date"), offer.due_date.strftime("%d/%m/%Y")),
    ]


def _issue_second_copy(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> StrOrPromise:
    new = second_copy.charge_second_copy(
        charge_id=charge.pk, today=today(), provider=current_provider(), actor=acting_user(request)
    )
    log_staff_action(
        user=request.user,
        objects=new,
        message=_("Created as the second copy of %(reference)s") % {"reference": charge.reference},
        flag=ADDITION,
    )
    return _("Second copy %(reference)s created for %(amount)s, due %(date)s; it is being issued.") % {
        "reference": new.reference,
        "amount": brl(new.amount),
        "date": new.due_date.strftime("%d/%m/%Y"),
    }


#: The charge page's collection buttons (added to the charge admin's object actions).
COLLECTION_ACTIONS = (
    ObjectAction(
        name="record-payment",
        label=_("Record a payment"),
        permission=RECORD_PERMISSION,
        when=lambda charge: charge.state in manual_payments.RECORDABLE_STATES,
        question=_(
            "Record a payment the subscriber made outside the boleto (at the counter, PIX to the "
            "provider, transfer)? The charge becomes paid; if its boleto is still payable at the "
            "gateway, it is cancelled there."
        ),
        form_class=ManualPaymentForm,
        initial=_payment_initial,
        facts=_payment_facts,
        confirm_label=_("Record the payment"),
        perform=_record_payment,
    ),
    ObjectAction(
        name="second-copy",
        label=_("Second copy"),
        permission=SECOND_COPY_PERMISSION,
        when=_second_copy_offered,
        question=_(
            "Issue a new boleto for the amount due today (fine once, interest up to today)? The old "
            "boleto is cancelled at the gateway once the new one is issued; both histories link to "
            "each other and the month is still billed once."
        ),
        facts=_second_copy_facts,
        confirm_label=_("Issue the second copy"),
        perform=_issue_second_copy,
    ),
    ObjectAction(
        name="print",
        label=_("Print the boleto"),
        when=lambda charge: bool(charge.linha_digitavel or charge.barcode),  # nothing to print before
        url=lambda charge: reverse("print:charge", args=[charge.pk]),
    ),
)


@admin.action(description=_("Record a payment"), permissions=["change"])
def record_payment(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    """From the charge list: opens the record-a-payment page of the one selected charge."""
    ids = list(queryset.values_list("pk", flat=True)[:2])
    if len(ids) != 1:
        model_admin.message_user(request, _("Select one charge to record a payment for."), messages.ERROR)
        return None
    return HttpResponseRedirect(
        reverse("admin:billing_charge_object_action", args=[ids[0], "record-payment"])
    )


class PaymentUndoMixin:
    """Added to the payment admin: a superuser undoes a payment staff recorded, with a reason."""

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path("<int:payment_id>/undo/", wrap(self.undo_view), name="billing_payment_undo"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def undo_view(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        if not may_undo_payment(request):
            raise PermissionDenied
        payment = get_object_or_404(
            Payment.objects.select_related("charge", "charge__customer"), pk=payment_id
        )
        form = UndoPaymentForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                manual_payments.payment_undo(
                    payment_id=payment.pk,
                    actor=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                log_staff_action(
                    user=request.user,
                    objects=[payment, payment.charge],
                    message=_("Payment %(id)s undone: %(reason)s")
                    % {"id": payment.gateway_payment_id, "reason": form.cleaned_data["reason"]},
                )
                messages.success(request, _("Payment undone; the reason is in the charge's history."))
                return HttpResponseRedirect(reverse("admin:billing_charge_change", args=[payment.charge_id]))
        return TemplateResponse(
            request,
            "admin/billing/payment/undo.html",
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": Payment._meta,
                "original": payment,
                "title": _("Undo payment %(id)s") % {"id": payment.gateway_payment_id},
                "form": form,
            },
        )
