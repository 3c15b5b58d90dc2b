"""Charges (boletos) and carnês: lists, history, and the cancel and retry actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from billing.admin.charge_actions import (
    CANCELLABLE_STATES,
    CARNE_ACTIONS,
    CHARGE_ACTIONS,
    cancel_message,
    carne_cancel_message,
)
from billing.admin.collection import COLLECTION_ACTIONS, record_payment
from billing.admin.common import state_badge
from billing.admin.decisions import DECISION_ACTIONS, ChargeDecisionsMixin
from billing.admin.filters import ChargeKindFilter, ChargeSituationFilter, LateFilter, is_bare_visit
from billing.admin.search import search_charges
from billing.forms import CancelReasonForm
from billing.labels import (
    endpoint_label,
    history_reason,
    payment_source_label,
    payment_status_label,
    process_label,
)
from billing.models import (
    OPEN_STATES,
    Carne,
    CarneEvent,
    CarneState,
    Charge,
    ChargeEvent,
    ChargeState,
    GatewayLog,
    Payment,
)
from billing.selectors.attention import needs_attention
from billing.selectors.charges import days_late
from billing.services import charges as charge_services
from billing.templatetags.money import brl, linha_digitavel, only_digits
from billing.templatetags.pix import pix_qr
from core.admin import (
    GuardedActionsMixin,
    ReadOnlyInline,
    acting_user,
    badge,
    confirmation_page,
    environment_badge,
    is_confirmed,
)
from core.audit import log_staff_action
from core.dates import today
from core.display import data_table
from core.errors import ApplicationError
from core.links import gateway_link_html
from core.object_actions import ObjectAction, ObjectActionsMixin
from core.pagination import ScalableAdminMixin
from customers.search import classify, customer_ids_matching


def _error_text(error: Exception) -> str:
    return str(getattr(error, "message", None) or error)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("yes", _("Needs attention"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() != "yes":
            return None
        return queryset.filter(needs_attention())


class ChargeEventInline(ReadOnlyInline):
    model = ChargeEvent
    verbose_name_plural = _("history")
    fields = ("at", "from_state", "to_state", "who", "why")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("by"))
    def who(self, obj: ChargeEvent) -> str:
        if obj.actor is not None:
            return obj.actor.get_full_name() or obj.actor.get_username()
        return process_label(obj.actor_label)

    @admin.display(description=_("why"))
    def why(self, obj: ChargeEvent) -> str:
        return history_reason(obj.reason) or "-"


class CarneEventInline(ReadOnlyInline):
    model = CarneEvent
    verbose_name_plural = _("history")
    fields = ("at", "from_state", "to_state", "actor", "actor_label", "reason")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = (
        "payment_link",
        "amount",
        "paid_on",
        "fee",
        "status_display",
        "amount_mismatch",
        "source_display",
        "method",
        "entered_by",
        "note",
        "created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("entered_by")

    @admin.display(description=_("gateway payment id"))
    def payment_link(self, obj: Payment) -> str:
        url = reverse("admin:billing_payment_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.gateway_payment_id)

    @admin.display(description=_("gateway status"))
    def status_display(self, obj: Payment) -> str:
        return payment_status_label(obj.status)

    @admin.display(description=_("source"))
    def source_display(self, obj: Payment) -> str:
        return payment_source_label(obj.source)


class GatewayLogInline(ReadOnlyInline):
    model = GatewayLog
    verbose_name_plural = _("gateway exchanges")
    fields = ("log_link", "operation", "outcome", "status_code", "duration_ms", "error_message")

    @admin.display(description=_("operation"))
    def operation(self, obj: GatewayLog) -> str:
        return endpoint_label(obj.endpoint)

    @admin.display(description=_("at"))
    def log_link(self, obj: GatewayLog) -> str:
        url = reverse("admin:billing_gatewaylog_change", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a>',
            url,
            date_format(timezone.localtime(obj.created_at), "SHORT_DATETIME_FORMAT"),
        )


CARNE_STATE_COLORS = {
    CarneState.OPEN: "#0a58ca",
    CarneState.CANCELLED: "#495057",
    CarneState.FINISHED: "#198754",
}


def sandbox_tag() -> str:
    """A quiet mark on list rows of a sandbox account: such a boleto is not real money."""
    return format_html('<span class="cobranca-sandbox">{}</span>', _("Sandbox"))


def _customer_link(customer: Any) -> str:
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, customer.name)


@admin.register(Charge)
class ChargeAdmin(  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    ChargeDecisionsMixin,
    ObjectActionsMixin,
    ScalableAdminMixin,
    GuardedActionsMixin,
    admin.ModelAdmin,
):
    # What staff look for first: whose charge, when due, how much, where it stands, then its
    # reference. The gateway code is a key to search by (the search box takes it), not to read.
    list_display = (
        "customer_name",
        "due_date",
        "amount",
        "state_display",
        "reference_display",
    )
    list_display_links = ("reference_display",)
    list_filter = (
        ChargeSituationFilter,
        LateFilter,
        NeedsAttentionFilter,
        "bank_account",
        ChargeKindFilter,
        "due_date",
    )
    list_select_related = ("customer", "bank_account", "carne")
    date_hierarchy = "due_date"
    #: Shown as the search box's scope; the lookup itself is billing.admin.search.search_charges.
    search_fields = ("reference", "gateway_code", "customer__name", "customer__document")
    search_help_text = _("A reference (T-…, C-…), a CPF/CNPJ, a gateway code or a customer's name.")
    list_per_page = 50
    autocomplete_fields = ("customer",)
    raw_id_fields = ("carne",)
    inlines = (ChargeEventInline, PaymentInline, GatewayLogInline)
    actions = ("cancel_selected_charges", "retry_failed_charges", record_payment)
    #: The buttons on a charge's page (billing/admin/charge_actions.py, collection.py and
    #: decisions.py; other modules add theirs).
    object_actions = (*COLLECTION_ACTIONS, *CHARGE_ACTIONS, *DECISION_ACTIONS)

    class Media:
        js = ("core/admin/copy.js",)

    #: Staff may correct these while the charge has not reached the gateway, then retry it.
    editable_when = (ChargeState.PENDING, ChargeState.FAILED)
    correctable_fields = ("amount", "due_date", "description")
    gateway_fields = (
        "gateway_code",
        "link_display",
        "checkout_url_display",
        "installment_link_display",
        "linha_digitavel_display",
        "pix_display",
        "barcode",
        "gateway_bank_account",
        "our_number",
        "gateway_payload_display",
    )
    audit_fields = (
        "reference",
        "state_display",
        "attention",
        "decision_panel",
        "environment",
        "state_changed_at",
        "error_message",
        "issue_attempts",
        "paid_after_cancel",
        "paid_twice",
        "gateway_cancel_due",
        "second_copies",
        "created_by",
        "created_at",
        "updated_at",
    )
    # First what staff look for (whose, where it stands, how much, when), then the keys.
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "customer",
                    "state_display",
                    "amount",
                    "due_date",
                    "description",
                    "reference",
                    "bank_account",
                    "environment",
                    "carne",
                    "installment_number",
                    "billing_month",
                )
            },
        ),
        (
            _("State"),
            {
                "fields": (
                    "state_changed_at",
                    "error_message",
                    "attention",
                    "decision_panel",
                    "issue_attempts",
                    "paid_after_cancel",
                    "paid_twice",
                    "gateway_cancel_due",
                    "second_copies",
                )
            },
        ),
        (_("At the gateway"), {"fields": gateway_fields}),
        (_("Record"), {"classes": ("collapse",), "fields": ("created_by", "created_at", "updated_at")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Charge | None = None) -> Any:
        """Rows that say nothing for this charge are left out: the carnê of a título, a billing
        month never set, an empty error, a flag that is off, what the gateway did not give."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        empty = set()
        if obj.carne_id is None:
            empty |= {"carne", "installment_number"}
        if obj.billing_month is None:
            empty.add("billing_month")
        if not obj.error_message:
            empty.add("error_message")
        if not obj.paid_after_cancel:
            empty.add("paid_after_cancel")
        if not obj.paid_twice:
            empty.add("paid_twice")
        if not obj.gateway_cancel_due:
            empty.add("gateway_cancel_due")
        empty |= {
            field
            for field, value in (
                ("gateway_code", obj.gateway_code),
                ("link_display", obj.link),
                ("checkout_url_display", obj.checkout_url),
                ("installment_link_display", obj.installment_link),
                ("linha_digitavel_display", obj.linha_digitavel),
                ("pix_display", obj.pix_payload),
                ("barcode", obj.barcode),
                ("gateway_bank_account", obj.gateway_bank_account),
                ("our_number", obj.our_number),
                ("gateway_payload_display", obj.gateway_payload),
            )
            if not value
        }
        kept = [
            (name, {**options, "fields": tuple(f for f in options["fields"] if f not in empty)})
            for name, options in fieldsets
        ]
        # A charge that never reached the gateway has no "At the gateway" section at all.
        return [(name, options) for name, options in kept if options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Charges are issued from the customer's page, through the billing services.
        return False

    # Links the gateway gave are clickable only when core.links allows them (https, its own domains).
    @admin.display(description=_("boleto link"))
    def link_display(self, obj: Charge) -> str:
        return gateway_link_html(obj.bank_account.gateway, obj.link)

    @admin.display(description=_("checkout URL"))
    def checkout_url_display(self, obj: Charge) -> str:
        return gateway_link_html(obj.bank_account.gateway, obj.checkout_url)

    @admin.display(description=_("carnê link"))
    def installment_link_display(self, obj: Charge) -> str:
        return gateway_link_html(obj.bank_account.gateway, obj.installment_link)

    def has_delete_permission(self, request: HttpRequest, obj: Charge | None = None) -> bool:
        # A boleto is cancelled (at the gateway too), never deleted: its history must stay.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Charge | None = None) -> bool:
        """A charge's page can be saved only while its data may still be corrected (pending or
        failed); otherwise it is read-only, without a Save button: what staff may still do is in
        the page's buttons (object actions)."""
        if obj is not None and obj.state not in self.editable_when:
            return False
        return super().has_change_permission(request, obj)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        if not search_term.strip():
            return queryset, False
        return search_charges(queryset, search_term), False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """A correction posted after the charge left pending/failed says why it was not saved."""
        if request.method == "POST":
            charge = self.get_object(request, object_id)
            if (
                charge is not None
                and charge.state not in self.editable_when
                and super().has_change_permission(request, charge)
            ):
                self._not_saved(request, charge)
                return HttpResponseRedirect(request.path)
        return super().change_view(request, object_id, form_url, extra_context)

    def _not_saved(self, request: HttpRequest, charge: Charge) -> None:
        self.message_user(
            request,
            _("Not saved: %(reference)s is now %(state)s and can no longer be corrected.")
            % {"reference": charge.reference, "state": charge.get_state_display()},
            messages.ERROR,
        )

    def save_model(self, request: HttpRequest, obj: Charge, form: Any, change: bool) -> None:
        """Write only the corrected fields, and only while the charge is still unsent.

        A plain ``save()`` would write back the state read when the page was posted: had a worker
        moved the charge to ``issuing`` meanwhile, it would be reset and could be sent twice.
        """
        changed = [name for name in form.changed_data if name in self.correctable_fields]
        if not changed:
            return
        updated = Charge.objects.filter(pk=obj.pk, state__in=self.editable_when).update(
            updated_at=timezone.now(), **{name: getattr(obj, name) for name in changed}
        )
        if not updated:
            self._not_saved(request, Charge.objects.get(pk=obj.pk))

    def get_readonly_fields(self, request: HttpRequest, obj: Charge | None = None) -> list[str]:
        fields = [
            *self.audit_fields,
            *self.gateway_fields,
            "customer",
            "bank_account",
            "carne",
            "installment_number",
            "billing_month",
        ]
        if obj is None or obj.state not in self.editable_when:
            fields += list(self.correctable_fields)
        return fields

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_name(self, obj: Charge) -> str:
        return _customer_link(obj.customer)

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, obj: Charge) -> str:
        badge = state_badge(obj.state, obj.get_state_display())
        current = today()
        if obj.state in OPEN_STATES and obj.due_date < current and not obj.bank_account.contra_apresentacao:
            late = days_late(due_date=obj.due_date, today=current)
            text = ngettext("%(days)d day late", "%(days)d days late", late) % {"days": late}
            return format_html('{} <span class="cobranca-late">{}</span>', badge, text)
        return badge

    @admin.display(description=_("reference"), ordering="reference")
    def reference_display(self, obj: Charge) -> str:
        """The reference, the carnê installment ("3/6") and a badge when it is a sandbox boleto."""
        parts: list[str] = [format_html("{}", obj.reference)]
        if obj.carne is not None:
            parts.append(
                format_html(
                    '<span class="cobranca-muted">{}</span>',
                    _("installment %(number)s/%(total)s")
                    % {"number": obj.installment_number, "total": obj.carne.installments},
                )
            )
        if obj.bank_account.is_sandbox:
            parts.append(sandbox_tag())
        return format_html_join(" ", "{}", ((part,) for part in parts))

    @admin.display(description=_("environment"))
    def environment(self, obj: Charge) -> str:
        return environment_badge(obj.bank_account)

    def get_ordering(self, request: HttpRequest) -> Any:
        """Charges to act on come nearest due date first; other views latest first."""
        situation = request.GET.get(ChargeSituationFilter.parameter_name)
        if situation == ChargeSituationFilter.OPEN or request.GET.get(LateFilter.parameter_name):
            return ("due_date", "id")
        if situation is None and is_bare_visit(request):
            return ("due_date", "id")
        return super().get_ordering(request)

    @admin.display(description=_("linha digitável"))
    def linha_digitavel_display(self, obj: Charge) -> str:
        if not obj.linha_digitavel:
            return "-"
        # The grouped line is what staff read; the copy button copies the digits alone, which
        # every bank app accepts.
        return format_html(
            '<code class="cobranca-linha">{}</code> <input type="hidden" id="linha-digitavel" value="{}">'
            '<button type="button" class="button" data-copy="linha-digitavel" data-copied-label="{}">'
            "{}</button>",
            linha_digitavel(obj.linha_digitavel),
            only_digits(obj.linha_digitavel),
            _("Copied"),
            _("Copy"),
        )

    @admin.display(description=_("PIX copia e cola"))
    def pix_display(self, obj: Charge) -> str:
        """The QR code (drawn from the payload, as on the portal), the payload to copy, and until
        when it can be paid; staff read it to a subscriber on the phone or check what they got."""
        if not obj.pix_payload:
            return "-"
        until = ""
        if obj.pix_expires_at is not None:
            until = _("Payable until %(when)s") % {
                "when": date_format(timezone.localtime(obj.pix_expires_at), "SHORT_DATETIME_FORMAT")
            }
        return format_html(
            '<div class="cobranca-pix">{}<div>'
            '<code class="cobranca-pix-payload" id="pix-payload">{}</code><p>'
            '<button type="button" class="button" data-copy="pix-payload" data-copied-label="{}">{}</button> '
            '<span class="cobranca-muted">{}</span></p></div></div>',
            pix_qr(obj.pix_payload, gettext("PIX QR code")),
            obj.pix_payload,
            _("Copied"),
            _("Copy"),
            until,
        )

    @admin.display(description=_("as the gateway answered"))
    def gateway_payload_display(self, obj: Charge) -> str:
        return data_table(obj.gateway_payload) if obj.gateway_payload else "-"

    @admin.display(description=_("second copy"))
    def second_copies(self, obj: Charge) -> str:
        """Both ways: the boleto this one replaces, and the copies that replace it."""
        links = []
        if obj.replaces_id is not None:
            original = Charge.objects.only("reference").get(pk=obj.replaces_id)
            links.append(
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Second copy of"),
                    reverse("admin:billing_charge_change", args=[original.pk]),
                    original.reference,
                )
            )
        for copy in obj.replacements.only("reference", "state").order_by("id"):
            links.append(
                format_html(
                    '{} <a href="{}">{}</a> ({})',
                    _("Replaced by"),
                    reverse("admin:billing_charge_change", args=[copy.pk]),
                    copy.reference,
                    copy.get_state_display(),
                )
            )
        if not links:
            return "-"
        return format_html(
            '<ul class="second-copies">{}</ul>',
            format_html_join("", "<li>{}</li>", ((link,) for link in links)),
        )

    # --- actions ---------------------------------------------------------------------------------

    @admin.action(description=_("Cancel selected charges"), permissions=["change"])
    def cancel_selected_charges(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        queryset = queryset.select_related("customer")
        form = CancelReasonForm(request.POST if is_confirmed(request) else None)
        if not (is_confirmed(request) and form.is_valid()):
            return confirmation_page(
                self,
                request,
                queryset,
                action="cancel_selected_charges",
                title=_("Cancel charges"),
                question=_(
                    "Cancel these charges? Issued boletos are cancelled at the gateway within the hour; "
                    "pending and failed ones are cancelled here at once."
                ),
                confirm_label=_("Yes, cancel them"),
                describe=lambda c: (
                    f"{c.reference} · {c.customer.name} · {brl(c.amount)} · {c.get_state_display()}"
                ),
                form=form,
                warn=lambda c: (
                    None
                    if c.state in CANCELLABLE_STATES
                    else _("%(reference)s is %(state)s and will not be cancelled.")
                    % {"reference": c.reference, "state": c.get_state_display()}
                ),
            )
        done = 0
        for charge in queryset:
            if charge.state == ChargeState.PAID:
                self.message_user(
                    request,
                    _("%(reference)s: a paid charge cannot be cancelled.") % {"reference": charge.reference},
                    messages.ERROR,
                )
                continue
            before = charge.state
            try:
                cancelled = charge_services.charge_request_cancel(
                    charge=charge, actor=acting_user(request), reason=form.cleaned_data["reason"]
                )
            except ApplicationError as error:
                self.message_user(request, f"{charge.reference}: {_error_text(error)}", messages.ERROR)
            else:
                done += 1
                if cancelled.state != before:
                    log_staff_action(
                        user=request.user,
                        objects=cancelled,
                        message=cancel_message(cancelled.state, form.cleaned_data["reason"]),
                    )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d charge cancelled or sent for cancelling.",
                    "%(count)d charges cancelled or sent for cancelling.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        return None

    @admin.action(description=_("Retry failed charges"), permissions=["change"])
    def retry_failed_charges(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        queryset = queryset.select_related("customer")
        if not is_confirmed(request):
            return confirmation_page(
                self,
                request,
                queryset,
                action="retry_failed_charges",
                title=_("Retry failed charges"),
                question=_("Send these failed charges to the gateway again?"),
                confirm_label=_("Yes, retry them"),
                describe=lambda c: f"{c.reference} · {c.customer.name} · {c.error_message or '-'}",
                warn=lambda c: (
                    None
                    if c.state == ChargeState.FAILED
                    else _("%(reference)s is %(state)s, not failed, and will be skipped.")
                    % {"reference": c.reference, "state": c.get_state_display()}
                ),
            )
        done = 0
        for charge in queryset:
            if charge.state != ChargeState.FAILED:
                continue
            try:
                charge_services.charge_retry(charge=charge, actor=acting_user(request))
            except ApplicationError as error:
                self.message_user(request, f"{charge.reference}: {_error_text(error)}", messages.ERROR)
            else:
                done += 1
                log_staff_action(
                    user=request.user, objects=charge, message=_("Sent to the gateway again (retry).")
                )
        self.message_user(
            request,
            ngettext("%(count)d charge queued again.", "%(count)d charges queued again.", done)
            % {"count": done},
            messages.SUCCESS if done else messages.WARNING,
        )
        return None


class InstallmentInline(ReadOnlyInline):
    model = Charge
    fk_name = "carne"
    verbose_name = _("installment")
    verbose_name_plural = _("installments")
    fields = ("installment_number", "charge_link", "due_date", "amount", "state_display", "gateway_code")
    ordering = ("installment_number",)

    @admin.display(description=_("reference"))
    def charge_link(self, obj: Charge) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:billing_charge_change", args=[obj.pk]), obj.reference
        )

    @admin.display(description=_("state"))
    def state_display(self, obj: Charge) -> str:
        return state_badge(obj.state, obj.get_state_display())


@admin.register(Carne)
class CarneAdmin(ObjectActionsMixin, ScalableAdminMixin, GuardedActionsMixin, admin.ModelAdmin):  # type: ignore[misc]  # paginator: the mixin narrows ModelAdmin's type
    # Whose carnê, how many installments of how much, from when, and where it stands.
    list_display = (
        "customer_name",
        "installments_amount",
        "first_due_date",
        "state_display",
        "reference_display",
    )
    list_display_links = ("reference_display",)
    list_filter = ("state", "bank_account", "first_due_date")
    list_select_related = ("customer", "bank_account")
    search_fields = ("reference", "customer__name", "customer__document")
    search_help_text = _("A carnê reference (C-…), a CPF/CNPJ or a customer's name.")
    inlines = (InstallmentInline, CarneEventInline)
    actions = ("cancel_carnes",)
    #: The buttons on a carnê's page (billing/admin/charge_actions.py), printing first.
    object_actions = (
        ObjectAction(
            name="print",
            label=_("Print the carnê"),
            url=lambda carne: reverse("print:carne", args=[carne.pk]),
        ),
        *CARNE_ACTIONS,
    )
    readonly_fields = (
        "reference",
        "customer",
        "bank_account",
        "environment",
        "installments",
        "amount",
        "first_due_date",
        "last_day_of_month",
        "state",
        "installment_link_display",
        "created_at",
    )
    fields = readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Carne | None = None) -> bool:
        """Nothing on a carnê's page is edited: it is read-only (no Save); the cancel is a button
        and a bulk action, both needing this permission on the list."""
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("carnê link"))
    def installment_link_display(self, obj: Carne) -> str:
        return gateway_link_html(obj.bank_account.gateway, obj.installment_link)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Carne | None = None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        term = search_term.strip()
        if not term:
            return queryset, False
        if classify(term) == "reference":
            return queryset.filter(reference=term.upper()), False
        return queryset.filter(customer_id__in=customer_ids_matching(term)), False

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_name(self, obj: Carne) -> str:
        return _customer_link(obj.customer)

    @admin.display(description=_("installments"), ordering="installments")
    def installments_amount(self, obj: Carne) -> str:
        return f"{obj.installments} × {brl(obj.amount)}"

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, obj: Carne) -> str:
        return badge(obj.get_state_display(), CARNE_STATE_COLORS.get(obj.state, "#6c757d"))  # type: ignore[call-overload]

    @admin.display(description=_("reference"), ordering="reference")
    def reference_display(self, obj: Carne) -> str:
        if obj.bank_account.is_sandbox:
            return format_html("{} {}", obj.reference, sandbox_tag())
        return obj.reference

    @admin.display(description=_("environment"))
    def environment(self, obj: Carne) -> str:
        return environment_badge(obj.bank_account)

    @admin.action(description=_("Cancel carnê"), permissions=["change"])
    def cancel_carnes(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        queryset = queryset.select_related("customer")
        form = CancelReasonForm(request.POST if is_confirmed(request) else None)
        if not (is_confirmed(request) and form.is_valid()):
            return confirmation_page(
                self,
                request,
                queryset,
                action="cancel_carnes",
                title=_("Cancel carnês"),
                question=_("Cancel every open installment of these carnês? Paid installments stay paid."),
                confirm_label=_("Yes, cancel them"),
                describe=lambda c: f"{c.reference} · {c.customer.name} · {c.installments} × {brl(c.amount)}",
                form=form,
                warn=lambda c: (
                    _("%(reference)s is already cancelled.") % {"reference": c.reference}
                    if c.state == CarneState.CANCELLED
                    else None
                ),
            )
        for carne in queryset:
            try:
                charges = charge_services.carne_request_cancel(
                    carne=carne, actor=acting_user(request), reason=form.cleaned_data["reason"]
                )
            except ApplicationError as error:
                self.message_user(request, f"{carne.reference}: {_error_text(error)}", messages.ERROR)
            else:
                reason = form.cleaned_data["reason"]
                log_staff_action(
                    user=request.user, objects=carne, message=carne_cancel_message(len(charges), reason)
                )
                for charge in charges:
                    log_staff_action(
                        user=request.user, objects=charge, message=cancel_message(charge.state, reason)
                    )
                self.message_user(
                    request,
                    ngettext(
                        "%(reference)s: %(count)d installment cancelled or sent for cancelling.",
                        "%(reference)s: %(count)d installments cancelled or sent for cancelling.",
                        len(charges),
                    )
                    % {"reference": carne.reference, "count": len(charges)},
                    messages.SUCCESS,
                )
        return None
