"""Customer forms for the admin: CPF/CNPJ typed with punctuation, billing type in bulk."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.documents import digits
from core.form_fields import PhoneField
from customers.documents import format_document, format_postcode, validate_document
from customers.models import BillingType, Customer

#: "12.345.678/0001-95" is 18 characters; leave room for stray spaces.
DOCUMENT_INPUT_MAX_LENGTH = 20


class DocumentField(forms.CharField):
    """A CPF or CNPJ, typed with or without punctuation; cleaned to digits."""

    default_error_messages = {"required": _("Enter the customer's CPF or CNPJ.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", DOCUMENT_INPUT_MAX_LENGTH)
        kwargs.setdefault("label", _("CPF/CNPJ"))
        kwargs.setdefault(
            "help_text", _("With or without punctuation: 123.456.789-09 or 12.345.678/0001-95.")
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_document(value) if isinstance(value, str) and value.isdigit() else value

    def to_python(self, value: Any) -> str:
        return digits(super().to_python(value))

    def validate(self, value: str) -> None:
        super().validate(value)
        if value:
            validate_document(value)


class PostcodeField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("CEP"))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return format_postcode(value) if isinstance(value, str) else value

    def to_python(self, value: Any) -> str:
        return digits(super().to_python(value))

    def validate(self, value: str) -> None:
        super().validate(value)
        if value and len(value) != 8:
            raise forms.ValidationError(_("A CEP has 8 digits, e.g. 01001-000."), code="postcode")


class CustomerAdminForm(forms.ModelForm):
    document = DocumentField()
    postcode = PostcodeField()
    phone = PhoneField(label=_("phone"))
    mobile = PhoneField(label=_("mobile phone"))

    class Meta:
        model = Customer
        fields = [
            "name",
            "document",
            "status",
            "email",
            "secondary_email",
            "phone",
            "mobile",
            "birth_date",
            "street",
            "number",
            "complement",
            "neighborhood",
            "city",
            "state",
            "postcode",
            "bank_account",
            "billing_type",
            "plan_amount",
            "due_day",
            "block_after_days",
            "radius_username",
            "radius_group",
            "reminders_opt_out",
            "notes",
        ]

    status_reason = forms.CharField(
        label=_("Why the status changes"),
        required=False,
        max_length=500,
        help_text=_("Kept in the customer's status history when you change the status."),
    )

    def clean_radius_username(self) -> str:
        username: str = (self.cleaned_data.get("radius_username") or "").strip()
        if (
            username
            and Customer.objects.filter(radius_username=username).exclude(pk=self.instance.pk).exists()
        ):
            raise forms.ValidationError(_("Another customer already has this RADIUS username."))
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        changed = self.instance.pk and "status" in self.changed_data
        if changed and not (cleaned.get("status_reason") or "").strip():
            self.add_error("status_reason", _("Say why the status changes: it goes into the status history."))
        return cleaned


class BillingTypeForm(forms.Form):
    billing_type = forms.ChoiceField(
        label=_("New billing type"), choices=BillingType.choices, widget=forms.RadioSelect
    )
