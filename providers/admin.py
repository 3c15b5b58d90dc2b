"""Provedor › Contas Bancárias: the gateway accounts, and the provider itself."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.admin import GuardedActionsMixin, environment_badge
from core.documents import format_document
from core.form_fields import PhoneField
from providers.forms import BankAccountForm, CnpjField, secret_display
from providers.models import BankAccount, Gateway, Provider
from providers.services import notification_url


def private_host_warning(url: str) -> str:
    """A warning when the gateway could not reach ``url``: its host is private, loopback or link-local."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address("127.0.0.1")
    else:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return ""  # a host name: cannot be judged without resolving it
    if not (address.is_private or address.is_loopback or address.is_link_local):
        return ""
    return str(
        _(
            "The public address %(host)s is private, loopback or link-local: the gateway cannot reach "
            "it (Juno refuses 172.16.0.0/12, i.e. 172.16.0.0 to 172.31.255.255). Set PUBLIC_BASE_URL "
            "to the public IP or (dynamic) DNS name of this server."
        )
        % {"host": host}
    )


#: Read-only renderings of the secret fields: (method name, reveals the last four characters).
SECRET_DISPLAYS = {
    "token": ("token_stored", True),
    "sandbox_token": ("sandbox_token_stored", True),
    "webhook_token": ("webhook_token_stored", True),
    "account_password": ("account_password_stored", False),
}


def masked_public_id(url: str, public_id: str) -> str:
    """The notification URL with its public id (a capability: whoever has it may post) cut to 4 characters."""
    return url.replace(public_id, "…" + public_id[-4:])


@admin.register(BankAccount)
class BankAccountAdmin(GuardedActionsMixin, admin.ModelAdmin):
    """Staff who may change an account type its secrets in password inputs that never show them back;
    staff who may only view it see each secret as its last four characters at most (a password as
    "a value is stored"), and the notification URL with its public id cut the same way."""

    form = BankAccountForm
    change_form_template = "admin/providers/bankaccount/change_form.html"
    list_display = ("name", "gateway", "environment", "active", "state", "updated_at")
    list_filter = ("gateway", "active", "state")
    search_fields = ("name", "cedente", "account_code")
    readonly_fields = ("public_id_display", "environment", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "gateway", "environment", "cedente", "state", "active")}),
        (
            _("Juno / Boleto Fácil and Asaas"),
            {
                "fields": ("token", "sandbox_token", "clear_sandbox_token"),
                "description": _(
                    "The private token from Juno › Integração, or the API key from Asaas › Integrações. "
                    "A sandbox token or key, when present, makes this account talk to the sandbox."
                ),
            },
        ),
        (_("Asaas"), {"fields": ("webhook_token", "billing_type")}),
        (_("Mycontas"), {"fields": ("account_code", "account_password")}),
        (
            _("Boleto options"),
            {
                "fields": (
                    "pass_customer_email",
                    "contra_apresentacao",
                    "max_days_to_update",
                    "fine_percent",
                    "daily_interest_percent",
                    "days_to_write_off",
                )
            },
        ),
        (_("Remessa options"), {"fields": ("next_remessa_number", "document_kind")}),
        (_("Rate limit"), {"fields": ("requests_per_second",)}),
        (
            _("Record"),
            {"classes": ("collapse",), "fields": ("public_id_display", "created_at", "updated_at")},
        ),
    )

    def get_fieldsets(self, request: HttpRequest, obj: BankAccount | None = None) -> Any:
        """An existing account shows only its own gateway's credentials; a new one shows both."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        others = {
            Gateway.JUNO.value: {"account_code", "webhook_token"},
            Gateway.MYCONTAS.value: {"token", "webhook_token"},
            Gateway.ASAAS.value: {"account_code"},
        }.get(obj.gateway, set())
        fieldsets = [fs for fs in fieldsets if not others & set(fs[1]["fields"])]
        if self.has_change_permission(request, obj):
            return fieldsets
        return [(name, {**opts, "fields": self._view_only(opts["fields"])}) for name, opts in fieldsets]

    @staticmethod
    def _view_only(fields: Any) -> tuple[str, ...]:
        """Fields as a view-only page lists them: each secret by its masked display, no clear box."""
        return tuple(
            SECRET_DISPLAYS[name][0] if name in SECRET_DISPLAYS else name
            for name in fields
            if name not in {"clear_sandbox_token", "public_id_display"}
        )

    def get_readonly_fields(self, request: HttpRequest, obj: BankAccount | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            readonly += tuple(method for method, _tail in SECRET_DISPLAYS.values())
        return readonly

    @admin.display(description=_("production token"))
    def token_stored(self, obj: BankAccount) -> str:
        return secret_display(obj.token or "")

    @admin.display(description=_("sandbox token"))
    def sandbox_token_stored(self, obj: BankAccount) -> str:
        return secret_display(obj.sandbox_token or "")

    @admin.display(description=_("webhook token"))
    def webhook_token_stored(self, obj: BankAccount) -> str:
        return secret_display(obj.webhook_token or "")

    @admin.display(description=_("account password"))
    def account_password_stored(self, obj: BankAccount) -> str:
        return secret_display(obj.account_password or "", reveal_tail=False)

    @admin.display(description=_("environment"))
    def environment(self, obj: BankAccount) -> str:
        return environment_badge(obj) if obj.pk else "-"

    @admin.display(description=_("public id"))
    def public_id_display(self, obj: BankAccount) -> str:
        return obj.public_id if obj.pk else "-"

    def save_model(self, request: HttpRequest, obj: BankAccount, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        clamped_from = getattr(form, "max_days_clamped_from", None)
        if clamped_from is not None:
            self.message_user(
                request,
                _("Max days to update was %(given)s; the gateway accepts at most 29 days, so 29 was stored.")
                % {"given": clamped_from},
                messages.WARNING,
            )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        account = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if account is not None:
            url = notification_url(account)
            may_change = self.has_change_permission(request, account)
            extra.update(
                {
                    "notification_url": url if may_change else masked_public_id(url, account.public_id),
                    "notification_url_masked": not may_change,
                    "notification_url_warning": private_host_warning(url),
                    "environment_badge": environment_badge(account),
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    class Media:
        js = ("core/admin/copy.js",)


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "document_formatted", "email", "phone")
    search_fields = ("name", "document")
    fieldsets = (
        (None, {"fields": ("name", "document", "email", "phone")}),
        (
            _("Collection cycle"),
            {"fields": ("bill_days_before_due", "block_after_days", "trust_unblock_days")},
        ),
        (_("FreeRADIUS"), {"fields": ("radius_blocked_group", "radius_default_group")}),
    )

    @admin.display(description=_("CNPJ"), ordering="document")
    def document_formatted(self, obj: Provider) -> str:
        return format_document(obj.document) or "-"

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # The CNPJ is typed and shown punctuated, stored as digits (every other field as declared).
        if db_field.name == "document":
            return CnpjField()
        if db_field.name == "phone":
            return PhoneField(label=capfirst(db_field.verbose_name))
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def account_link(account: BankAccount | None) -> str:
    if account is None:
        return "-"
    return format_html("{} {}", account.name, environment_badge(account))
