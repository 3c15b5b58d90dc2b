"""The customer's page, as billing extends it: the títulos avulsos and the current carnê, and
the screens where staff create and send them to the gateway.

``customers`` knows nothing of billing: this admin subclasses its ``CustomerAdmin`` and takes its
place in the admin site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from billing.admin.common import state_badge
from billing.admin.filters import ChargeSituationFilter, LateFilter
from billing.forms import IssueCarneForm, IssueChargeForm, next_due_date
from billing.models import Carne, CarneState, Charge
from billing.selectors.attention import charges_needing_attention
from billing.selectors.charges import customer_billing, days_late, overdue_q
from billing.services import charges as charge_services
from billing.services import service_status
from billing.services.overdue_policy import trust_last_day
from core import queue
from core.admin import acting_user, environment_badge, is_confirmed
from core.audit import ADDITION, log_staff_action
from core.dates import today
from core.errors import ApplicationError
from core.object_actions import ObjectAction, ObjectActionsMixin
from customers.admin import CustomerAdmin
from customers.models import Customer, CustomerStatus
from providers.selectors import provider_settings

#: How many of a customer's títulos avulsos the change page lists.
RECENT_CHARGES_SHOWN = 12
ISSUE_PERMISSION = "billing.add_charge"

#: What the charge and carnê screens create: a título avulso or a carnê.
Issued = TypeVar("Issued", Charge, Carne)


class CustomerLateFilter(LateFilter):
    """Customers with a charge overdue by so many days."""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        late = self.late_q()
        if late is None:
            return None
        return queryset.filter(pk__in=Charge.objects.filter(late).values("customer_id"))


class CustomerAttentionFilter(admin.SimpleListFilter):
    """Customers with a charge that needs staff (billing.selectors.attention)."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("yes", _("Needs attention"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() != "yes":
            return None
        return queryset.filter(pk__in=charges_needing_attention().values("customer_id"))


def _gateway_of(customer: Customer) -> dict[str, str]:
    """The forms that create títulos and carnês name the customer's gateway (its description limits, tags)."""
    account = customer.bank_account
    return {"gateway": account.gateway, "gateway_label": str(account.get_gateway_display())}


def _issue_url(name: str) -> Any:
    return lambda customer: reverse(f"admin:customers_customer_{name}", args=[customer.pk])


#: The buttons at the top of a customer's page (core/object_actions.py); other modules add theirs
#: with ``add_object_actions(BillingCustomerAdmin, ...)``.
CUSTOMER_ACTIONS = (
    ObjectAction(
        name="issue-charge",
        label=_("Issue single charge"),
        permission=ISSUE_PERMISSION,
        link=_issue_url("issue_charge"),
    ),
    ObjectAction(
        name="issue-carne",
        label=_("Issue carnê"),
        permission=ISSUE_PERMISSION,
        link=_issue_url("issue_carne"),
    ),
)


class BillingCustomerAdmin(ObjectActionsMixin, CustomerAdmin):  # type: ignore[misc]  # paginator: see CustomerAdmin
    change_form_template = "admin/billing/customer/change_form.html"
    object_actions = CUSTOMER_ACTIONS
    # Who, which document, whether they are up to date; then what they pay and when.
    list_display = (
        "name",
        "document_formatted",
        "status",
        "overdue_display",
        "plan",
        "billing_type",
        "bank_account",
    )
    list_filter = (  # type: ignore[assignment]  # the base's are field names only
        "status",
        CustomerLateFilter,
        CustomerAttentionFilter,
        "bank_account",
        "billing_type",
        "state",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Each customer with their overdue charges counted and the oldest one's due date (one
        subquery each, so the list costs the same number of queries whatever its length)."""
        overdue = Charge.objects.filter(overdue_q(today=today()), customer=OuterRef("pk")).order_by()
        return (
            super()
            .get_queryset(request)
            .annotate(
                oldest_overdue=Subquery(overdue.order_by("due_date").values("due_date")[:1]),
                overdue_count=Subquery(
                    overdue.values("customer").annotate(count=Count("pk")).values("count")[:1]
                ),
            )
        )

    @admin.display(description=_("plan"), ordering="plan_amount")
    def plan(self, obj: Customer) -> str:
        """What the customer pays and on which day: "149,90 · dia 10"."""
        return gettext("%(amount)s · day %(day)s") % {
            "amount": number_format(obj.plan_amount, 2),
            "day": obj.due_day,
        }

    @admin.display(description=_("overdue"), ordering=F("oldest_overdue").asc(nulls_last=True))
    def overdue_display(self, obj: Customer) -> str:
        """ "2 · 45 dias": how many charges are overdue and how late the oldest one is."""
        oldest = getattr(obj, "oldest_overdue", None)
        if oldest is None:
            return "-"
        late = days_late(due_date=oldest, today=today())
        text = ngettext("%(days)d day late", "%(days)d days late", late) % {"days": late}
        return format_html(
            '{} · <span class="cobranca-late">{}</span>', getattr(obj, "overdue_count", 1), text
        )

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/issue-charge/", wrap(self.issue_charge_view), name="customers_customer_issue_charge"
            ),
            path("<int:pk>/issue-carne/", wrap(self.issue_carne_view), name="customers_customer_issue_carne"),
            path(
                "<int:pk>/trust-unblock/",
                wrap(self.trust_unblock_view),
                name="customers_customer_trust_unblock",
            ),
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
            "standing": self._standing(customer),
            "single_charges": [(c, state_badge(c.state, c.get_state_display())) for c in singles],
            "current_carne": carne,
            "current_carne_open": carne is not None and carne.state == CarneState.OPEN,
            "carne_installments": [(c, state_badge(c.state, c.get_state_display())) for c in installments],
            "account_badge": environment_badge(customer.bank_account),
            "can_issue": request.user.has_perm(ISSUE_PERMISSION),
            "can_trust_unblock": customer.status == CustomerStatus.BLOCKED
            and self.has_change_permission(request, customer),
        }

    def _standing(self, customer: Customer) -> list[tuple[str, str, str]]:
        """Where the customer stands, said first on their page: overdue (or up to date), needing
        attention, open; each (css class, link to those charges, text)."""
        current = today()
        standing = customer_billing(customer_id=customer.pk, today=current)
        charges = reverse("admin:billing_charge_changelist") + f"?customer__id__exact={customer.pk}"
        parts: list[tuple[str, str, str]] = []
        if standing.overdue:
            late = standing.days_late(current)
            text = ngettext("%(count)d charge overdue", "%(count)d charges overdue", standing.overdue) % {
                "count": standing.overdue
            }
            days = ngettext("%(days)d day late", "%(days)d days late", late) % {"days": late}
            parts.append(
                ("late", f"{charges}&{LateFilter.parameter_name}={LateFilter.ANY}", f"{text} ({days})")
            )
        else:
            parts.append(("ok", "", gettext("Up to date: nothing overdue.")))
        if standing.attention:
            text = ngettext(
                "%(count)d charge needs attention", "%(count)d charges need attention", standing.attention
            ) % {"count": standing.attention}
            parts.append(("attention", f"{charges}&{CustomerAttentionFilter.parameter_name}=yes", text))
        situation = f"{ChargeSituationFilter.parameter_name}={ChargeSituationFilter.OPEN}"
        text = (
            ngettext("%(count)d open charge", "%(count)d open charges", standing.unsettled)
            % {"count": standing.unsettled}
            if standing.unsettled
            else gettext("No open charges")
        )
        parts.append(("open", f"{charges}&{situation}", text))
        return parts

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
            **_gateway_of(customer),
            initial={"amount": customer.plan_amount, "due_date": next_due_date(customer.due_day, current)},
        )
        return self._issue_view(
            request,
            customer,
            form,
            create=charge_services.charge_create,
            customer_note=lambda charge: (
                gettext("Charge %(reference)s issued.") % {"reference": charge.reference}
            ),
            created_message=lambda charge: (
                _("Charge %(reference)s created; it is being sent to the gateway.")
                % {"reference": charge.reference}
            ),
            title=str(_("Issue a single charge")),
        )

    def issue_carne_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = self._customer_for_issue(request, pk)
        current = today()
        form = IssueCarneForm(
            request.POST or None,
            today=current,
            **_gateway_of(customer),
            initial={
                "amount": customer.plan_amount,
                "first_due_date": next_due_date(customer.due_day, current),
            },
        )
        return self._issue_view(
            request,
            customer,
            form,
            create=charge_services.carne_create,
            customer_note=lambda carne: (
                gettext("Carnê %(reference)s issued with %(count)d installments.")
                % {"reference": carne.reference, "count": carne.installments}
            ),
            created_message=lambda carne: (
                _("Carnê %(reference)s created with %(count)d installments; it is being sent to the gateway.")
                % {"reference": carne.reference, "count": carne.installments}
            ),
            title=str(_("Issue a carnê")),
        )

    def _issue_view(
        self,
        request: HttpRequest,
        customer: Customer,
        form: IssueChargeForm | IssueCarneForm,
        *,
        create: Callable[..., Issued],
        customer_note: Callable[[Issued], str],
        created_message: Callable[[Issued], str],
        title: str,
    ) -> HttpResponse:
        """Create a título or a carnê from a valid POST: the service creates it (a repeated submit
        creates nothing), the staff log records it on both objects, and the customer's page says
        whether it is on its way to the gateway. Otherwise the form again, with its errors."""
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            try:
                with queue.delivery_report() as undelivered:
                    issued = create(
                        customer=customer,
                        created_by=acting_user(request),
                        reference=data.pop("submission"),
                        **data,
                    )
            except charge_services.AlreadyIssued as repeated:
                return self._repeated(request, customer, repeated)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                log_staff_action(
                    user=request.user,
                    objects=issued,
                    message=gettext("Issued from the customer's page; sent to the gateway."),
                    flag=ADDITION,
                )
                log_staff_action(user=request.user, objects=customer, message=customer_note(issued))
                if undelivered:
                    self._queue_down(request, issued.reference)
                else:
                    self.message_user(request, created_message(issued), messages.SUCCESS)
                return self._back_to(customer)
        return self._issue_page(request, customer, form, title)

    def _queue_down(self, request: HttpRequest, reference: str) -> None:
        """The new charge is saved; only its hand-off to the workers waits for the queue."""
        self.message_user(
            request,
            _(
                "%(reference)s is saved, but the task queue cannot be reached right now: it is sent "
                "to the gateway automatically once the queue is back. Do not issue it again."
            )
            % {"reference": reference},
            messages.WARNING,
        )

    def _repeated(
        self, request: HttpRequest, customer: Customer, repeated: charge_services.AlreadyIssued
    ) -> HttpResponse:
        """A form submitted again after it created its charges: say so, create nothing, show the customer."""
        self.message_user(request, repeated.message, messages.WARNING)
        return self._back_to(customer)

    # --- desbloqueio de confiança ------------------------------------------------------------------

    def trust_unblock_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm, then grant; when the rules refuse, the page says why and offers nothing."""
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_change_permission(request, customer):
            raise PermissionDenied
        refusal = service_status.trust_unblock_check(customer)
        if refusal is None and is_confirmed(request):
            try:
                trust = service_status.trust_unblock_grant(
                    customer_id=customer.pk, actor=acting_user(request), actor_label="admin"
                )
            except service_status.TrustUnblockRefused as refused:
                self.message_user(request, refused.message, messages.ERROR)
            else:
                done = _("Service unblocked on trust until %(date)s.") % {
                    "date": trust.last_day.strftime("%d/%m/%Y")
                }
                log_staff_action(user=request.user, objects=customer, message=done)
                self.message_user(request, done, messages.SUCCESS)
            return self._back_to(customer)
        days = provider_settings().trust_unblock_days
        context = {
            **self.admin_site.each_context(request),
            "title": _("Desbloqueio de confiança"),
            "customer": customer,
            "refusal": refusal,
            "last_day": trust_last_day(today=today(), days=days),
            "opts": self.opts,
            "original": customer,
        }
        return TemplateResponse(request, "admin/billing/customer/trust_unblock.html", context)


admin.site.unregister(Customer)
admin.site.register(Customer, BillingCustomerAdmin)
