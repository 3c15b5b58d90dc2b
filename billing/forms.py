"""Admin forms for issuing charges and carnês from a customer's page, and for cancelling."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from billing.services.billing_run import parse_month
from billing.services.charges import new_reference
from billing.services.dates import add_months, due_date_for
from billing.services.descriptions import description_help, initial_description
from core.dates import today as local_today
from gateways.base import MAX_INSTALLMENTS
from gateways.registry import offers_month_end_carnes
from providers.models import BankAccount


def next_due_date(due_day: int, today: dt.date) -> dt.date:
    """The next date on ``due_day`` after ``today`` (the month's last day in shorter months)."""
    this_month = due_date_for(today.year, today.month, due_day)
    if this_month > today:
        return this_month
    return add_months(this_month, 1, due_day=due_day)


class OneSubmissionForm(forms.Form):
    """An issue form that creates what it issues once, however often it is submitted.

    The page carries, signed, the reference the new título or carnê will have; references are
    unique in the database, so a second submit of the same page (after an error page, a double
    click, the browser's back button) finds the first one instead of issuing again.
    """

    reference_prefix = "T"
    submission = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = self._new_submission()

    def _new_submission(self) -> str:
        return signing.dumps(new_reference(self.reference_prefix), salt=SUBMISSION_SALT)

    def clean_submission(self) -> str | None:
        """The reference this page issues under; None for a post without one (a script's)."""
        value = self.cleaned_data["submission"]
        if not value:
            return None
        try:
            reference = signing.loads(value, salt=SUBMISSION_SALT)
        except signing.BadSignature:
            reference = None
        if not (isinstance(reference, str) and reference.startswith(f"{self.reference_prefix}-")):
            # Signed with another key (rotated) or edited: the page shown again carries a fresh one.
            data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict or a dict: both copy
            data[self.add_prefix("submission")] = self._new_submission()
            self.data = data
            raise forms.ValidationError(
                _("This form is no longer valid: check it and submit it again."), code="bad_submission"
            )
        return reference


#: Signs the reference an issue form carries (see :class:`OneSubmissionForm`).
SUBMISSION_SALT = "billing.forms.issue-submission"


class IssueChargeForm(OneSubmissionForm):
    """A título avulso for one customer (MK-Auth: "+" under *Títulos avulsos*)."""

    amount = forms.DecimalField(
        label=capfirst(_("amount")),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        localize=True,
    )
    due_date = forms.DateField(
        label=capfirst(_("due date")), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    description = forms.CharField(
        label=capfirst(_("description")), max_length=600, widget=forms.Textarea(attrs={"rows": 3})
    )
    override_reason = forms.CharField(
        label=capfirst(_("second bill for a month already billed: why")),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text=_(
            "Only when this customer must get a second bill for a month they already have an open or "
            "paid one for. Kept in the charge's history with your name."
        ),
    )
    carne = False

    def __init__(
        self,
        *args: Any,
        today: dt.date | None = None,
        gateway: str = "",
        gateway_label: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or local_today()
        description = self.fields["description"]
        description.help_text = description_help(
            gateway=gateway, gateway_label=gateway_label, carne=self.carne
        )
        description.initial = initial_description(gateway=gateway, carne=self.carne)
        if self.carne and not offers_month_end_carnes(gateway):
            del self.fields["last_day_of_month"]  # the gateway cannot put installments there

    def clean_due_date(self) -> dt.date:
        value = self.cleaned_data["due_date"]
        if value < self.today:
            raise forms.ValidationError(_("The due date cannot be in the past."), code="past_due_date")
        return value


class IssueCarneForm(IssueChargeForm):
    """A carnê for one customer (MK-Auth: "+" under *Carnê atual*)."""

    carne = True
    reference_prefix = "C"
    field_order = (
        "installments",
        "first_due_date",
        "amount",
        "last_day_of_month",
        "description",
        "override_reason",
    )

    installments = forms.IntegerField(
        label=capfirst(_("installments")), min_value=1, max_value=MAX_INSTALLMENTS, initial=12
    )
    first_due_date = forms.DateField(
        label=capfirst(_("first due date")), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    amount = forms.DecimalField(
        label=capfirst(_("installment amount")),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        localize=True,
    )
    last_day_of_month = forms.BooleanField(
        label=capfirst(_("due on the last day of each month")), required=False
    )
    due_date = None  # type: ignore[assignment]  # a carnê has a first due date instead

    def clean_first_due_date(self) -> dt.date:
        value = self.cleaned_data["first_due_date"]
        if value < self.today:
            raise forms.ValidationError(_("The first due date cannot be in the past."), code="past_due_date")
        return value


class CancelReasonForm(forms.Form):
    reason = forms.CharField(
        label=capfirst(_("reason")),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"size": 60}),
    )


class BillingRunForm(forms.Form):
    """ "Gerar cobranças": the month to bill and, optionally, one bank account."""

    month = forms.CharField(
        label=_("Month"),
        max_length=7,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("YYYY-MM, e.g. 2026-12."),
    )
    bank_account = forms.ModelChoiceField(
        label=_("Bank account"),
        queryset=BankAccount.objects.filter(active=True),
        required=False,
        empty_label=_("All accounts"),
    )

    def clean_month(self) -> dt.date:
        try:
            month = parse_month(self.cleaned_data["month"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="month") from None
        if month < local_today().replace(day=1):
            raise forms.ValidationError(_("A past month cannot be billed."), code="past_month")
        return month
