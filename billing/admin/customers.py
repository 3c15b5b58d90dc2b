"""The customer's page, as billing extends it: the títulos avulsos and the current carnê, and
the screens that issue them.

``customers`` knows nothing of billing: this admin subclasses its ``CustomerAdmin`` and takes its
place in the admin site.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from billing.admin.common import state_badge
from billing.forms import IssueCarneForm, IssueChargeForm, next_due_date
from billing.models import Carne, CarneState, Charge
from billing.services import charges as charge_services
from core.admin import acting_user, environment_badge
from core.dates import today
from core.errors import ApplicationError
from customers.admin import CustomerAdmin
from customers.models import Customer

#: How many of a customer's títulos avulsos the change page lists.
RECENT_CHARGES_SHOWN = 12
ISSUE_PERMISSION = "billing.add_charge"


class BillingCustomerAdmin(CustomerAdmin):
    change_form_template = "admin/billing/customer/change_form.html"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/issue-charge/", wrap(self.issue_charge_view), name="customers_customer_issue_charge"
            ),
            path("<int:pk>/issue-carne/", wrap(self.issue_carne_view), name="customers_customer_issue_carne"),
            *super().get_urls(),
        ]

    # --- change page: títulos avulsos and carnê atual --------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        customer = self.get_object(request, object_id)
        if customer is not None:
            extra.update(self._billing_context(request, customer))
        return super().change_view(request, object_id, form_url, extra)

    def _billing_context(self, request: HttpRequest, customer: Customer) -> dict[str, Any]:
        singles = list(
            Charge.objects.filter(customer=customer, carne__isnull=True)
            .select_related("bank_account")
            .order_by("-due_date", "-id")[:RECENT_CHARGES_SHOWN]
        )
        carne = (
            Carne.objects.filter(customer=customer)
            .select_related("bank_account")
            .order_by("-state", "-created_at", "-id")  # "open" sorts before "finished"/"cancelled"
            .first()
        )
        installments = list(carne.installment_charges.order_by("installment_number")) if carne else []
        return {
            "single_charges": [(c, state_badge(c.state, c.get_state_display())) for c in singles],
            "current_carne": carne,
            "current_carne_open": carne is not None and carne.state == CarneState.OPEN,
            "carne_installments": [(c, state_badge(c.state, c.get_state_display())) for c in installments],
            "account_badge": environment_badge(customer.bank_account),
            "can_issue": request.user.has_perm(ISSUE_PERMISSION),
        }

    def _customer_for_issue(self, request: HttpRequest, pk: int) -> Customer:
        customer = get_object_or_404(Customer.objects.select_related("bank_account"), pk=pk)
        if not (request.user.has_perm(ISSUE_PERMISSION) and self.has_view_permission(request, customer)):
            raise PermissionDenied
        return customer

    def _issue_page(
        self, request: HttpRequest, customer: Customer, form: Any, title: str
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "customer": customer,
            "opts": self.opts,
            "original": customer,
            "account_badge": environment_badge(customer.bank_account),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/billing/customer/issue_form.html", context)

    def issue_charge_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = self._customer_for_issue(request, pk)
        current = today()
        form = IssueChargeForm(
            request.POST or None,
            today=current,
            initial={"amount": customer.plan_amount, "due_date": next_due_date(customer.due_day, current)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                charge = charge_services.charge_create(
                    customer=customer, created_by=acting_user(request), **form.cleaned_data
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _("Charge %(reference)s created; it is being sent to the gateway.")
                    % {"reference": charge.reference},
                    messages.SUCCESS,
                )
                return self._back_to(customer)
        return self._issue_page(request, customer, form, str(_("Issue a single charge")))

    def issue_carne_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = self._customer_for_issue(request, pk)
        current = today()
        form = IssueCarneForm(
            request.POST or None,
            today=current,
            initial={
                "amount": customer.plan_amount,
                "first_due_date": next_due_date(customer.due_day, current),
            },
        )
        if request.method == "POST" and form.is_valid():
            try:
                carne = charge_services.carne_create(
                    customer=customer, created_by=acting_user(request), **form.cleaned_data
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _(
                        "Carnê %(reference)s created with %(count)d installments; "
                        "it is being sent to the gateway."
                    )
                    % {"reference": carne.reference, "count": carne.installments},
                    messages.SUCCESS,
                )
                return self._back_to(customer)
        return self._issue_page(request, customer, form, str(_("Issue a carnê")))


admin.site.unregister(Customer)
admin.site.register(Customer, BillingCustomerAdmin)
