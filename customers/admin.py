"""Customers in the admin: list, search, import, billing type in bulk, portal links.

Billing adds its screens to this admin (issuing títulos and carnês, the customer's charges) in
``billing.admin.customers``; this app knows nothing of billing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from core.admin import GuardedActionsMixin, acting_user, confirmation_page, is_confirmed
from core.audit import log_staff_action
from core.errors import ApplicationError
from core.pagination import ScalableAdminMixin
from customers import services as customer_services
from customers.forms import BillingTypeForm, CustomerAdminForm
from customers.models import BillingType, Customer, StatusCause, StatusChange
from customers.resources import IMPORT_FORMATS, CustomerResource, template_csv
from customers.search import search_customers


def new_portal_link_message() -> str:
    """The history line of a new portal link (the old link stopped working at that moment)."""
    return gettext("New portal link issued; the old one no longer works.")


def portal_url(customer: Customer) -> str:
    """The subscriber's page at the site's public address (what staff send to the subscriber)."""
    return settings.PUBLIC_BASE_URL + reverse("portal:page", args=[customer.portal_token])


#: The customer page lists this many of the latest status changes (newest first).
STATUS_HISTORY_SHOWN = 50


@admin.register(Customer)
class CustomerAdmin(ScalableAdminMixin, ImportMixin, GuardedActionsMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    form = CustomerAdminForm
    resource_classes = [CustomerResource]
    import_formats = IMPORT_FORMATS
    import_template_name = "admin/customers/customer/import.html"
    change_form_template = "admin/customers/customer/change_form.html"
    list_display: tuple[Any, ...] = (
        "name",
        "document_formatted",
        "billing_type",
        "bank_account",
        "plan_amount",
        "due_day",
        "status",
    )
    list_filter = ("billing_type", "status", "bank_account", "state")
    list_select_related = ("bank_account",)
    search_fields = ("name", "document", "email")
    search_help_text = _(
        "A CPF/CNPJ (punctuation allowed) or its first digits, an e-mail, or part of a name."
    )
    list_per_page = 50
    autocomplete_fields = ("bank_account",)
    readonly_fields = ("portal_link", "status_cause", "status_changed_at", "created_at", "updated_at")
    actions = ("change_billing_type", "issue_new_portal_link")
    fieldsets = (
        (None, {"fields": ("name", "document")}),
        (
            _("Service status"),
            {"fields": ("status", "status_reason", "status_cause", "status_changed_at", "block_after_days")},
        ),
        (_("Contact"), {"fields": ("email", "secondary_email", "phone", "mobile", "birth_date")}),
        (
            _("Address"),
            {"fields": ("street", "number", "complement", "neighborhood", "city", "state", "postcode")},
        ),
        (
            _("Billing"),
            {"fields": ("bank_account", "billing_type", "plan_amount", "due_day", "reminders_opt_out")},
        ),
        (_("Network (FreeRADIUS)"), {"fields": ("radius_username", "radius_group")}),
        (_("Subscriber portal"), {"fields": ("portal_link",)}),
        (_("Notes"), {"fields": ("notes",)}),
        (_("Record"), {"classes": ("collapse",), "fields": ("created_at", "updated_at")}),
    )

    class Media:
        js = ("core/admin/copy.js",)

    @admin.display(description=_("CPF/CNPJ"), ordering="document")
    def document_formatted(self, obj: Customer) -> str:
        return obj.document_display

    @admin.display(description=_("CEP"), ordering="postcode")
    def postcode_formatted(self, obj: Customer) -> str:
        return obj.postcode_display or "-"

    #: On the read-only page (readers), the stored digits are shown with their punctuation.
    formatted_for_readers = {"document": "document_formatted", "postcode": "postcode_formatted"}

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        swap: dict[Any, Any] = self.formatted_for_readers
        return [
            (name, {**options, "fields": tuple(swap.get(f, f) for f in options["fields"])})
            for name, options in fieldsets
        ]

    @admin.display(description=_("portal link"))
    def portal_link(self, obj: Customer) -> str:
        if not obj.pk:
            return str(_("Created with the customer."))
        # "Issue a new portal link" sits in the page's object tools, shown only to who may change.
        url = portal_url(obj)
        return format_html(
            '<a id="portal-link" href="{}" target="_blank" rel="noopener noreferrer">{}</a> '
            '<button type="button" class="button" data-copy="portal-link" data-copied-label="{}">{}</button>',
            url,
            url,
            _("Copied"),
            _("Copy"),
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """The page shows the status history (every change: when, from, to, why, by whom)."""
        extra = dict(extra_context or {})
        extra["status_history"] = list(
            StatusChange.objects.filter(customer_id=int(object_id) if str(object_id).isdigit() else 0)
            .select_related("actor")
            .order_by("-at", "-id")[:STATUS_HISTORY_SHOWN]
        )
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        """A status changed here goes through the service (history, event, FreeRADIUS) like any other."""
        previous = (
            Customer.objects.filter(pk=obj.pk).values("status", "radius_username", "radius_group").first()
        )
        new_status = obj.status
        if previous is not None:
            obj.status = previous["status"]  # the form saves everything but the status
        super().save_model(request, obj, form, change)
        if previous is None:
            return
        if new_status != previous["status"]:
            customer_services.customer_change_status(
                customer=obj,
                to_status=new_status,
                cause=StatusCause.STAFF,
                reason=form.cleaned_data.get("status_reason", ""),
                actor=acting_user(request),
            )
        if (obj.radius_username, obj.radius_group) != (previous["radius_username"], previous["radius_group"]):
            customer_services.customer_radius_changed(
                customer=obj, previous_username=previous["radius_username"]
            )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        if not search_term.strip():
            return queryset, False
        return search_customers(queryset, search_term), False

    # --- import ----------------------------------------------------------------------------------

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("customers.add_customer")

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                _("Nothing was imported: some rows have errors. Fix the file and import it again."),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_import"))
        return super().process_result(result, request)

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="customers-template.csv"'
        return response

    # --- urls ------------------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "import/template.csv",
                wrap(self.import_template_view),
                name="customers_customer_import_template",
            ),
            path(
                "<int:pk>/renew-portal-link/",
                wrap(self.renew_portal_link_view),
                name="customers_customer_renew_portal_link",
            ),
            *super().get_urls(),
        ]

    def _back_to(self, customer: Customer) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))

    def renew_portal_link_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_change_permission(request, customer):
            raise PermissionDenied
        if is_confirmed(request):
            customer_services.customer_rotate_portal_token(customer=customer)
            log_staff_action(user=request.user, objects=customer, message=new_portal_link_message())
            self.message_user(
                request, _("A new portal link was issued; the old one no longer works."), messages.SUCCESS
            )
            return self._back_to(customer)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Issue a new portal link"),
            "customer": customer,
            "opts": self.opts,
            "original": customer,
        }
        return TemplateResponse(request, "admin/customers/customer/renew_portal_link.html", context)

    # --- actions ---------------------------------------------------------------------------------

    @admin.action(description=_("Change billing type"), permissions=["change"])
    def change_billing_type(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        form = BillingTypeForm(request.POST if is_confirmed(request) else None)
        if not (is_confirmed(request) and form.is_valid()):
            return confirmation_page(
                self,
                request,
                queryset,
                action="change_billing_type",
                title=_("Change billing type"),
                question=_(
                    "Choose the billing type for these customers. Charges already created keep theirs; "
                    "the next ones follow the new type."
                ),
                confirm_label=_("Apply"),
                describe=lambda c: f"{c.name} · {c.document_display} · {c.get_billing_type_display()}",
                form=form,
            )
        billing_type = form.cleaned_data["billing_type"]
        try:
            changed = customer_services.customers_set_billing_type(
                customers=list(queryset.values_list("pk", flat=True)),
                billing_type=billing_type,
                actor=acting_user(request),
            )
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self.message_user(
            request,
            ngettext(
                "%(count)d customer changed to %(type)s.", "%(count)d customers changed to %(type)s.", changed
            )
            % {"count": changed, "type": BillingType(billing_type).label},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Issue a new portal link"), permissions=["change"])
    def issue_new_portal_link(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        if not is_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="issue_new_portal_link",
                title=_("Issue a new portal link"),
                question=_(
                    "Issue a new portal link for these customers? Their current links stop working at once."
                ),
                confirm_label=_("Yes, issue new links"),
                describe=lambda c: f"{c.name} · {c.document_display}",
            )
        count = 0
        for customer in queryset:
            customer_services.customer_rotate_portal_token(customer=customer)
            log_staff_action(user=request.user, objects=customer, message=new_portal_link_message())
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d new portal link issued.", "%(count)d new portal links issued.", count)
            % {"count": count},
            messages.SUCCESS,
        )
        return None
