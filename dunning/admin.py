"""The reminder log, "send boleto by e-mail" and the overdue list (*inadimplentes*) in the admin."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from billing.admin.charges import ChargeAdmin
from billing.models import Charge
from billing.templatetags.money import brl
from core.admin import ReadOnlyAdminMixin, acting_user, badge
from core.dates import today
from core.documents import format_phone
from core.errors import ApplicationError
from core.object_actions import ObjectAction, add_object_actions
from customers.models import Customer, CustomerStatus
from dunning import selectors, services
from dunning.models import Outcome, OverdueCustomer, ReminderLog
from providers.models import BankAccount

SEND_PERMISSION = "billing.change_charge"
OUTCOME_COLORS: dict[str, str] = {
    Outcome.QUEUED: "#6c757d",
    Outcome.SENDING: "#0d6efd",
    Outcome.SENT: "#198754",
    Outcome.FAILED: "#dc3545",
    Outcome.SKIPPED: "#495057",
}
#: Customers per chunk of the CSV export (one query for their charges per chunk).
EXPORT_CHUNK = 2000


def outcome_badge(log: ReminderLog) -> str:
    return badge(log.get_outcome_display(), OUTCOME_COLORS.get(log.outcome, "#6c757d"))


def step_label(step_days: int | None) -> str:
    if step_days is None:
        return str(_("sent by staff"))
    if step_days == 0:
        return str(_("on the due date"))
    if step_days < 0:
        return str(_("%(days)d days before") % {"days": -step_days})
    return str(_("%(days)d days after") % {"days": step_days})


@admin.register(ReminderLog)
class ReminderLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "customer_link",
        "charge_link",
        "step",
        "channel",
        "outcome_display",
        "sent_at",
    )
    list_filter = ("outcome", "channel", "step_days", "created_at")
    list_select_related = ("customer", "charge")
    search_fields = ("=charge__reference", "customer__name", "=customer__document")
    search_help_text = _("A charge reference, a customer's name or CPF/CNPJ (digits).")
    show_full_result_count = False
    fields = (
        "customer",
        "charge",
        "step_days",
        "channel",
        "outcome",
        "recipient",
        "subject",
        "body",
        "detail",
        "actor",
        "run",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_link(self, obj: ReminderLog) -> str:
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer.name)

    @admin.display(description=_("charge"))
    def charge_link(self, obj: ReminderLog) -> str:
        url = reverse("admin:billing_charge_change", args=[obj.charge_id])
        return format_html('<a href="{}">{}</a>', url, obj.charge.reference)

    @admin.display(description=_("step"), ordering="step_days")
    def step(self, obj: ReminderLog) -> str:
        return step_label(obj.step_days)

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_display(self, obj: ReminderLog) -> str:
        return outcome_badge(obj)


def _send_by_email(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> StrOrPromise:
    log = services.reminder_send_now(charge=charge, actor=acting_user(request), today=today())
    if log.outcome != Outcome.SENT:
        raise ApplicationError(_("The e-mail was not sent: %(detail)s") % {"detail": log.detail})
    return _("Boleto sent by e-mail to %(email)s.") % {"email": log.recipient}


#: "Enviar boleto por e-mail" on the charge page: the ``manual`` text, now, to the customer's address.
add_object_actions(
    ChargeAdmin,
    ObjectAction(
        name="send-email",
        label=_("Send boleto by e-mail"),
        permission=SEND_PERMISSION,
        when=lambda charge: charge.state in services.REMINDED_STATES and bool(charge.customer.email),
        question=_(
            "Send this boleto by e-mail now? The e-mail has the linha digitável, the amount due today "
            "and the link to the subscriber's page."
        ),
        facts=lambda charge: [
            (_("charge"), charge.reference),
            (_("amount"), brl(charge.amount)),
            (_("due date"), charge.due_date.strftime("%d/%m/%Y")),
            (_("e-mail"), charge.customer.email),
        ],
        confirm_label=_("Send the e-mail"),
        perform=_send_by_email,
    ),
)


class DaysLateFilter(admin.SimpleListFilter):
    """Days late of the oldest overdue boleto; applied to the grouped charges (see OverdueChangeList)."""

    title = _("days late")
    parameter_name = "days_late"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [(key, _("%(range)s days") % {"range": key}) for key, _first, _last in selectors.BUCKETS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return None  # a bucket is a condition on the grouped charges, not on the customer rows


class OverdueAccountFilter(admin.SimpleListFilter):
    """The bank account of the overdue boletos (where they are payable), applied to the grouped
    charges like the days late: a customer moved to another account still owes the old boletos."""

    title = _("bank account")
    parameter_name = "account"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [
            (str(pk), name)
            for pk, name in BankAccount.objects.order_by("name", "pk").values_list("pk", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        return None

    @staticmethod
    def account_id(request: HttpRequest) -> int | None:
        value = str(request.GET.get(OverdueAccountFilter.parameter_name, ""))
        return int(value) if value.isdigit() else None


#: Sortable columns of the overdue list and the grouped row they sort by.
GROUP_ORDER = {"days_late_display": "oldest_due", "overdue_count_display": "overdue_count"}


class OverduePage:
    """The overdue rows, as the admin's paginator sees them: counted and sliced on the grouped
    charges; each slice becomes customer rows with what they owe today and their last reminder.

    :meth:`fetch` reads a page's groups and the number of all groups in one query (a window count),
    so that the grouping, the costly part, runs once per page view rather than twice.
    """

    ordered = True

    def __init__(self, groups: QuerySet, day: dt.date, *, account_id: int | None = None) -> None:
        self.groups = groups
        self.day = day
        self.account_id = account_id
        self._total: int | None = None
        self._fetched: dict[tuple[int, int], list[dict[str, Any]]] = {}

    def fetch(self, start: int, stop: int) -> None:
        """Read groups ``start:stop`` and, when there are any, the total with them."""
        rows = list(self.groups.annotate(total=Window(Count("*")))[start:stop])
        if rows:
            self._total = rows[0]["total"]
        elif start == 0:
            self._total = 0
        self._fetched[(start, stop)] = rows

    def _rows(self, start: int, stop: int) -> list[dict[str, Any]]:
        """Groups ``start:stop``, from what :meth:`fetch` read when it covers them (the paginator
        cuts the last page short of a full page)."""
        for (first, last), rows in self._fetched.items():
            if first == start and stop <= last:
                return rows[: stop - start]
        return list(self.groups[start:stop])

    def count(self) -> int:
        if self._total is None:
            self._total = self.groups.count()
        return self._total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Any]:
        rows = self._rows(index.start or 0, index.stop)
        ids = [row["customer_id"] for row in rows]
        customers = OverdueCustomer.objects.select_related("bank_account").in_bulk(ids)
        amounts = selectors.amounts_due_today(ids, today=self.day, account_id=self.account_id)
        reminders = selectors.last_reminders(ids)
        result = []
        for row in rows:
            customer: Any = customers[row["customer_id"]]
            customer.overdue_count = row["overdue_count"]
            customer.oldest_due = row["oldest_due"]
            customer.days_late = (self.day - row["oldest_due"]).days
            customer.amount_due_today = amounts.get(customer.pk)
            customer.last_reminder_at = reminders.get(customer.pk)
            result.append(customer)
        return result


class OverdueChangeList(ChangeList):
    """Filters and search narrow the customers; rows, order and pages come from the grouped charges."""

    def get_ordering(self, request: HttpRequest, queryset: QuerySet) -> list[Any]:
        return ["pk"]  # the customer queryset is only ever used as a filter

    def group_ordering(self) -> list[str]:
        ordering = []
        for part in (self.params.get(ORDER_VAR) or "").split("."):
            _none, descending, index = part.rpartition("-")
            try:
                field = GROUP_ORDER.get(str(self.list_display[int(index)]))
            except (ValueError, IndexError):
                continue
            if field:
                ordering.append(f"-{field}" if descending else field)
        return [*(ordering or ["oldest_due"]), "customer_id"]

    def overdue_rows(self, request: HttpRequest) -> OverduePage:
        customers = self.queryset
        account_id = OverdueAccountFilter.account_id(request)
        groups = selectors.overdue_groups(
            today=today(),
            customers=customers if customers.query.where else None,
            bucket=str(request.GET.get(DaysLateFilter.parameter_name, "")),
            account_id=account_id,
        )
        return OverduePage(groups.order_by(*self.group_ordering()), today(), account_id=account_id)

    def get_results(self, request: HttpRequest) -> None:
        rows = self.overdue_rows(request)
        if self.show_all:
            rows.fetch(0, self.list_max_show_all + 1)
        else:
            start = max(self.page_num - 1, 0) * self.list_per_page
            rows.fetch(start, start + self.list_per_page)
        paginator = self.model_admin.get_paginator(request, rows, self.list_per_page)  # type: ignore[arg-type]  # a sliceable, countable sequence is all it reads
        self.result_count = paginator.count
        self.show_full_result_count = False
        self.full_result_count = None
        self.can_show_all = self.result_count <= self.list_max_show_all
        self.multi_page = self.result_count > self.list_per_page
        if (self.show_all and self.can_show_all) or not self.multi_page:
            self.result_list = rows[: self.result_count]
        else:
            self.result_list = paginator.get_page(self.page_num).object_list
        self.paginator = paginator


@admin.register(OverdueCustomer)
class OverdueCustomerAdmin(admin.ModelAdmin):
    """Inadimplentes: read-only, filterable, searchable, exported as CSV exactly as filtered."""

    list_display = (
        "customer_link",
        "document",
        "days_late_display",
        "overdue_count_display",
        "amount_due_today_display",
        "status_display",
        "last_reminder_display",
    )
    list_display_links = None  # the customer column links to the customer's page
    list_filter = (OverdueAccountFilter, DaysLateFilter, "status")
    search_fields = ("name", "document", "email")
    search_help_text = _("Part of a name, a CPF/CNPJ (digits) or an e-mail.")
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/dunning/overduecustomer/change_list.html"

    list_max_show_all = 200
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return OverdueCustomer.objects.all()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OverdueChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("customers.view_customer") and request.user.has_perm(
            "billing.view_charge"
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        # A row opens the customer's own page (its billing, history and reminders).
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[object_id]))

    @admin.display(description=_("customer"))
    def customer_link(self, obj: OverdueCustomer) -> str:
        url = reverse("admin:customers_customer_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.name)

    @admin.display(description=_("CPF/CNPJ"))
    def document(self, obj: OverdueCustomer) -> str:
        return obj.document_display

    @admin.display(description=_("days late"), ordering="oldest_due")
    def days_late_display(self, obj: Any) -> int:
        return getattr(obj, "days_late", 0)

    @admin.display(description=_("overdue boletos"), ordering="overdue_count")
    def overdue_count_display(self, obj: Any) -> int:
        return int(obj.overdue_count)

    @admin.display(description=_("amount due today"))
    def amount_due_today_display(self, obj: Any) -> str:
        amount = getattr(obj, "amount_due_today", None)
        return brl(amount) if amount is not None else "-"

    @admin.display(description=_("service"))
    def status_display(self, obj: OverdueCustomer) -> str:
        color = {CustomerStatus.ACTIVE: "#198754", CustomerStatus.BLOCKED: "#dc3545"}.get(
            obj.status,
            "#6c757d",  # type: ignore[call-overload]
        )
        return badge(obj.get_status_display(), color)

    @admin.display(description=_("last reminder sent"))
    def last_reminder_display(self, obj: Any) -> str:
        if not obj.last_reminder_at:
            return "-"
        return timezone.localtime(obj.last_reminder_at).strftime("%d/%m/%Y %H:%M")

    # --- CSV export of what is filtered ----------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "export/", self.admin_site.admin_view(self.export_view), name="dunning_overduecustomer_export"
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.overdue_rows(request)  # type: ignore[attr-defined]
        day = today()
        response = StreamingHttpResponse(self._csv_rows(rows, day), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="inadimplentes-{day.isoformat()}.csv"'
        return response

    def _csv_rows(self, rows: OverduePage, day: dt.date) -> Iterator[str]:
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow(
            [
                str(_("customer")),
                str(_("CPF/CNPJ")),
                str(_("e-mail")),
                str(_("phone")),
                str(_("days late")),
                str(_("overdue boletos")),
                str(_("amount due today")),
                str(_("service")),
                str(_("last reminder sent")),
            ]
        )
        total = rows.count()
        for start in range(0, total, EXPORT_CHUNK):
            for row in rows[start : start + EXPORT_CHUNK]:
                yield writer.writerow(
                    [
                        row.name,
                        row.document_display,
                        row.email,
                        format_phone(row.mobile or row.phone),
                        row.days_late,
                        row.overdue_count,
                        f"{row.amount_due_today or 0:.2f}".replace(".", ","),
                        row.get_status_display(),
                        timezone.localtime(row.last_reminder_at).strftime("%d/%m/%Y %H:%M")
                        if row.last_reminder_at
                        else "",
                    ]
                )


class _Echo:
    """A file-like object whose write() returns the line: csv.writer then yields strings."""

    def write(self, value: str) -> str:
        return value


#: How many of a customer's latest reminders their page lists (the reminder log has them all).
REMINDERS_SHOWN = 15
_CustomerAdmin: Any = type(admin.site._registry[Customer])


class ReminderCustomerAdmin(_CustomerAdmin):
    """The customer's page, with the reminders sent to them and their outcome."""

    change_form_template = "admin/dunning/customer/change_form.html"

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        # Both the add and the change page render this template: each needs the page it extends.
        extra = dict(extra_context or {})
        extra["reminder_base_template"] = _CustomerAdmin.change_form_template or "admin/change_form.html"
        if object_id is not None and object_id.isdigit():
            logs = (
                ReminderLog.objects.filter(customer_id=int(object_id))
                .select_related("charge")
                .order_by("-created_at", "-id")[:REMINDERS_SHOWN]
            )
            extra["reminders"] = [(log, step_label(log.step_days), outcome_badge(log)) for log in logs]
        return super().changeform_view(request, object_id, form_url, extra)


admin.site.unregister(Customer)
admin.site.register(Customer, ReminderCustomerAdmin)
