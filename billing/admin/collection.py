"""Staff tools on the charge and payment pages: record a payment (*baixa manual*), issue a second
copy (*segunda via*), and undo a payment recorded by mistake.

Each tool is its own page under the model's admin URL (an object tool on the change page links to
it), shown and allowed only to who may use it: operators record payments and issue second copies,
readers do neither, and only superusers undo. Every page confirms before it changes anything.
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
from django.utils.translation import gettext_lazy as _

from billing.models import Charge, Payment, PaymentMethod
from billing.services import manual_payments, second_copy
from billing.services.amounts import charge_amount_due
from core.dates import today
from billing.templatetags.money import brl
from core.admin import acting_user
from core.audit import ADDITION, log_staff_action
from core.errors import ApplicationError
from providers.selectors import current_provider

RECORD_PERMISSION = "billing.change_charge"
SECOND_COPY_PERMISSION = "billing.add_charge"


def may_record_payment(request: HttpRequest) -> bool:
    return request.user.has_perm(RECORD_PERMISSION)


def may_issue_second_copy(request: HttpRequest) -> bool:
    return request.user.has_perm(SECOND_COPY_PERMISSION)


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


class ChargeCollectionToolsMixin:
    """Added to the charge admin: the record-payment and second-copy pages, and the bulk action."""

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "<int:charge_id>/record-payment/",
                wrap(self.record_payment_view),
                name="billing_charge_record_payment",
            ),
            path(
                "<int:charge_id>/second-copy/", wrap(self.second_copy_view), name="billing_charge_second_copy"
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _tool_page(
        self, request: HttpRequest, charge: Charge, template: str, **context: Any
    ) -> TemplateResponse:
        opts = Charge._meta
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": opts,
                "original": charge,
                "charge_url": reverse("admin:billing_charge_change", args=[charge.pk]),
                **context,
            },
        )

    def _charge(self, charge_id: int) -> Charge:
        return get_object_or_404(
            Charge.objects.select_related("customer", "bank_account", "carne"), pk=charge_id
        )

    # --- record a payment ------------------------------------------------------------------------

    def record_payment_view(self, request: HttpRequest, charge_id: int) -> HttpResponse:
        if not may_record_payment(request):
            raise PermissionDenied
        charge = self._charge(charge_id)
        day = today()
        due_today = charge_amount_due(charge, on=day)
        if request.method == "POST":
            form = ManualPaymentForm(request.POST)
            if form.is_valid():
                try:
                    outcome = manual_payments.payment_record_manual(
                        charge_id=charge.pk,
                        actor=request.user,  # type: ignore[arg-type]
                        today=day,
                        **form.cleaned_data,
                    )
                except ApplicationError as error:
                    form.add_error(None, error.message)
                else:
                    if outcome.created:
                        log_staff_action(
                            user=request.user,
                            objects=charge,
                            message=_("Payment of %(amount)s recorded (%(method)s)")
                            % {
                                "amount": brl(outcome.payment.amount),
                                "method": outcome.payment.get_method_display(),
                            },
                        )
                    self._report_payment(request, charge, outcome)
                    return HttpResponseRedirect(reverse("admin:billing_charge_change", args=[charge.pk]))
        else:
            form = ManualPaymentForm(
                initial={
                    "amount": due_today,
                    "paid_on": day,
                    "method": PaymentMethod.CASH,
                    "form_key": uuid.uuid4().hex,
                }
            )
        return self._tool_page(
            request,
            charge,
            "admin/billing/charge/record_payment.html",
            title=_("Record a payment for %(reference)s") % {"reference": charge.reference},
            form=form,
            amount_due_today=due_today,
        )

    def _report_payment(
        self, request: HttpRequest, charge: Charge, outcome: manual_payments.ManualPaymentOutcome
    ) -> None:
        if not outcome.created:
            messages.warning(request, _("This payment had already been recorded; nothing was added."))
            return
        messages.success(
            request,
            _("Payment of %(amount)s recorded for %(reference)s.")
            % {"amount": outcome.payment.amount, "reference": charge.reference},
        )
        if outcome.cancel_queued:
            messages.info(
                request, _("The boleto is being cancelled at the gateway so it cannot be paid twice.")
            )

    @admin.action(description=_("Record a payment"), permissions=["change"])
    def record_payment(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            messages.error(request, _("Select one charge to record a payment for."))
            return None
        return HttpResponseRedirect(reverse("admin:billing_charge_record_payment", args=[ids[0]]))

    # --- second copy -----------------------------------------------------------------------------

    def second_copy_view(self, request: HttpRequest, charge_id: int) -> HttpResponse:
        if not may_issue_second_copy(request):
            raise PermissionDenied
        charge = self._charge(charge_id)
        day = today()
        provider = current_provider()
        refused = second_copy.refusal(charge, today=day)
        if request.method == "POST" and not refused:
            try:
                new = second_copy.charge_second_copy(
                    charge_id=charge.pk, today=day, provider=provider, actor=acting_user(request)
                )
            except ApplicationError as error:
                refused = error.message
            else:
                log_staff_action(
                    user=request.user,
                    objects=charge,
                    message=_("Second copy %(reference)s requested") % {"reference": new.reference},
                )
                log_staff_action(
                    user=request.user,
                    objects=new,
                    message=_("Created as the second copy of %(reference)s")
                    % {"reference": charge.reference},
                    flag=ADDITION,
                )
                messages.success(
                    request,
                    _("Second copy %(reference)s created for %(amount)s, due %(date)s; it is being issued.")
                    % {
                        "reference": new.reference,
                        "amount": new.amount,
                        "date": new.due_date.strftime("%d/%m/%Y"),
                    },
                )
                return HttpResponseRedirect(reverse("admin:billing_charge_change", args=[new.pk]))
        return self._tool_page(
            request,
            charge,
            "admin/billing/charge/second_copy.html",
            title=_("Second copy of %(reference)s") % {"reference": charge.reference},
            refused=refused,
            quote=None if refused else second_copy.quote(charge, today=day, provider=provider),
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
