"""The bank account form: secrets never shown back, the gateway's limits checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from core.documents import digits, format_document, is_valid_cnpj
from gateways.registry import offers_contra_apresentacao
from providers.models import MAX_DAYS_TO_UPDATE, AsaasBillingType, BankAccount, Gateway

FINE_PERCENT_MAX = Decimal("2.00")
DAILY_INTEREST_MAX = Decimal("0.33")
DAYS_TO_WRITE_OFF_MAX = 29

#: Secrets shorter than this never show even their last characters.
_MIN_LENGTH_TO_HINT = 12


def secret_hint(value: str, *, reveal_tail: bool = True) -> str:
    """What staff see of a stored secret: at most its last 4 characters."""
    if not value:
        return str(_("Nothing stored."))
    if reveal_tail and len(value) >= _MIN_LENGTH_TO_HINT:
        return str(_("Stored: …%(tail)s. Leave blank to keep it.") % {"tail": value[-4:]})
    return str(_("A value is stored. Leave blank to keep it."))


def secret_display(value: str, *, reveal_tail: bool = True) -> str:
    """A stored secret as read-only pages show it: at most its last 4 characters, never more."""
    if not value:
        return str(_("Nothing stored."))
    if reveal_tail and len(value) >= _MIN_LENGTH_TO_HINT:
        return f"…{value[-4:]}"
    return str(_("A value is stored."))


class SecretInput(forms.PasswordInput):
    """Never renders the stored value back, even after a failed submit."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)


class BankAccountForm(forms.ModelForm):
    token = forms.CharField(label=capfirst(_("production token")), required=False, widget=SecretInput())
    sandbox_token = forms.CharField(label=capfirst(_("sandbox token")), required=False, widget=SecretInput())
    clear_sandbox_token = forms.BooleanField(
        label=capfirst(_("clear the sandbox token")),
        required=False,
        help_text=_("Removes the sandbox token: the account goes back to production."),
    )
    webhook_token = forms.CharField(label=capfirst(_("webhook token")), required=False, widget=SecretInput())
    account_password = forms.CharField(
        label=capfirst(_("account password")), required=False, widget=SecretInput()
    )
    max_days_to_update = forms.IntegerField(
        label=capfirst(_("max days to update")),
        initial=MAX_DAYS_TO_UPDATE,
        help_text=_("Days after the due date the boleto is still accepted (1 to 29; more is stored as 29)."),
    )
    fine_percent = forms.DecimalField(
        label=capfirst(_("fine %")),
        max_digits=6,
        decimal_places=2,
        localize=True,
        initial=Decimal("2.00"),
        help_text=_("Charged once after the due date; 0 to 2.00 (legal maximum)."),
    )
    daily_interest_percent = forms.DecimalField(
        label=capfirst(_("daily interest %")),
        max_digits=6,
        decimal_places=3,
        localize=True,
        initial=Decimal("0.033"),
        help_text=_("Per day late; 0 to 0.33 (usually 0.033, i.e. 1 % a month)."),
    )
    days_to_write_off = forms.IntegerField(
        label=capfirst(_("days to write off")),
        initial=15,
        help_text=_("Days after the due date before the boleto is written off; 0 to 29."),
    )

    class Meta:
        model = BankAccount
        fields = [
            "name",
            "gateway",
            "cedente",
            "state",
            "active",
            "token",
            "sandbox_token",
            "webhook_token",
            "billing_type",
            "account_code",
            "account_password",
            "pass_customer_email",
            "contra_apresentacao",
            "max_days_to_update",
            "fine_percent",
            "daily_interest_percent",
            "days_to_write_off",
            "next_remessa_number",
            "document_kind",
            "requests_per_second",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Set when a max-days value above 29 was stored as 29 (the admin shows a warning).
        self.max_days_clamped_from: int | None = None
        instance = self.instance
        self.fields["token"].help_text = secret_hint(instance.token)
        self.fields["sandbox_token"].help_text = " ".join(
            [secret_hint(instance.sandbox_token), str(_("When filled in, this account uses the sandbox."))]
        )
        self.fields["account_password"].help_text = secret_hint(instance.account_password, reveal_tail=False)
        # The admin shows these to Asaas accounts (and new ones) only; the others keep the default.
        if "billing_type" in self.fields:
            self.fields["billing_type"].required = False
        if "webhook_token" in self.fields:
            self.fields["webhook_token"].help_text = " ".join(
                [
                    secret_hint(instance.webhook_token),
                    str(
                        _(
                            "Asaas sends it in each webhook's asaas-access-token header; "
                            "set the same one there."
                        )
                    ),
                ]
            )

    # Secrets: a blank field keeps what is stored.
    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip() or self.instance.token

    def clean_sandbox_token(self) -> str:
        return self.cleaned_data["sandbox_token"].strip() or self.instance.sandbox_token

    def clean_billing_type(self) -> str:
        return self.cleaned_data.get("billing_type") or self.instance.billing_type or AsaasBillingType.BOLETO

    def clean_webhook_token(self) -> str:
        return self.cleaned_data["webhook_token"].strip() or self.instance.webhook_token

    def clean_account_password(self) -> str:
        return self.cleaned_data["account_password"] or self.instance.account_password

    def clean_max_days_to_update(self) -> int:
        value = self.cleaned_data["max_days_to_update"]
        if value < 1:
            raise forms.ValidationError(_("Max days to update must be at least 1."), code="min_value")
        if value > MAX_DAYS_TO_UPDATE:
            # The gateways accept at most 29 days; a larger value is stored as 29 (with a warning).
            self.max_days_clamped_from = value
            return MAX_DAYS_TO_UPDATE
        return value

    def clean_fine_percent(self) -> Decimal:
        value = self.cleaned_data["fine_percent"]
        if not Decimal("0") <= value <= FINE_PERCENT_MAX:
            raise forms.ValidationError(
                _("The fine must be between 0 and 2.00 %% (the legal maximum); %(value)s was given."),
                code="fine_range",
                params={"value": number_format(value)},
            )
        return value

    def clean_daily_interest_percent(self) -> Decimal:
        value = self.cleaned_data["daily_interest_percent"]
        if not Decimal("0") <= value <= DAILY_INTEREST_MAX:
            raise forms.ValidationError(
                _("The daily interest must be between 0 and 0.33 %%; %(value)s was given."),
                code="interest_range",
                params={"value": number_format(value)},
            )
        return value

    def clean_days_to_write_off(self) -> int:
        value = self.cleaned_data["days_to_write_off"]
        if not 0 <= value <= DAYS_TO_WRITE_OFF_MAX:
            raise forms.ValidationError(
                _("Days to write off must be between 0 and 29; %(value)s was given."),
                code="write_off_range",
                params={"value": value},
            )
        return value

    def _require(self, field: str, message: StrOrPromise) -> None:
        # The admin leaves the other gateway's fields out of an existing account's form.
        self.add_error(field if field in self.fields else None, message)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("clear_sandbox_token"):
            if self.data.get(self.add_prefix("sandbox_token")):
                self.add_error(
                    "clear_sandbox_token",
                    _("Either type a new sandbox token or clear it, not both."),
                )
            cleaned["sandbox_token"] = None
        gateway = cleaned.get("gateway")
        if gateway == Gateway.JUNO and not (cleaned.get("token") or cleaned.get("sandbox_token")):
            self._require("token", _("A Juno account needs a production token or a sandbox token."))
        if gateway == Gateway.ASAAS:
            if not (cleaned.get("token") or cleaned.get("sandbox_token")):
                self._require("token", _("An Asaas account needs a production or a sandbox API key."))
            if not cleaned.get("webhook_token"):
                self._require("webhook_token", _("An Asaas account needs a webhook token."))
        if gateway == Gateway.MYCONTAS:
            if not cleaned.get("account_code"):
                self._require("account_code", _("A Mycontas account needs its account code."))
            if not cleaned.get("account_password"):
                self._require("account_password", _("A Mycontas account needs its password."))
        if gateway and cleaned.get("contra_apresentacao") and not offers_contra_apresentacao(gateway):
            self._require(
                "contra_apresentacao",
                _(
                    "%(gateway)s has no contra-apresentação: its boletos always have a due date and are "
                    "payable late only up to the max days to update. Turn this option off."
                )
                % {"gateway": Gateway(gateway).label},
            )
        return cleaned


class CnpjField(forms.CharField):
    """The provider's CNPJ, typed with or without punctuation, shown punctuated, stored as digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("CNPJ"))
        kwargs.setdefault("help_text", _("With or without punctuation: 12.345.678/0001-95."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_document(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> str:
        return digits(super().to_python(value))

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and not is_valid_cnpj(value):
            raise forms.ValidationError(_("Invalid CNPJ: the check digits do not match."), code="cnpj")
