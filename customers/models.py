"""Subscribers of the provider, each billed by one bank account as a título or a carnê."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from localflavor.br.br_states import STATE_CHOICES

from core.documents import digits
from customers.documents import format_document, format_postcode, validate_document


def new_portal_token() -> str:
    """256 random bits, URL-safe: the subscriber's portal link cannot be guessed."""
    return secrets.token_urlsafe(32)


class BillingType(models.TextChoices):
    """*Título*: one stand-alone boleto a month. *Carnê*: a booklet of monthly installments."""

    TITULO = "titulo", _("Single charge (título)")
    CARNE = "carne", _("Booklet (carnê)")


class CustomerStatus(models.TextChoices):
    """The subscriber's service: *active* is served; *blocked* is not served but still billed (the
    debt does not stop the month); *suspended* (by staff, on request) and *inactive* (contract
    ended) are neither served nor billed."""

    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked")
    SUSPENDED = "suspended", _("Suspended")
    INACTIVE = "inactive", _("Inactive")


#: Statuses the monthly billing run bills.
BILLED_STATUSES = (CustomerStatus.ACTIVE, CustomerStatus.BLOCKED)


class StatusCause(models.TextChoices):
    """Why the service status is what it is: only blocks for debt are lifted automatically."""

    STAFF = "staff", _("Staff")
    OVERDUE = "overdue", _("Overdue charges")
    PAYMENT = "payment", _("Nothing overdue")
    TRUST = "trust", _("Trust unblock")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=120)
    document = models.CharField(
        _("CPF/CNPJ"),
        max_length=14,
        unique=True,
        validators=[validate_document],
        help_text=_("Digits only; punctuation is removed on save."),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    secondary_email = models.EmailField(_("secondary e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=25, blank=True)
    mobile = models.CharField(_("mobile phone"), max_length=25, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    street = models.CharField(_("street"), max_length=80, blank=True)
    number = models.CharField(_("number"), max_length=30, blank=True)
    complement = models.CharField(_("complement"), max_length=30, blank=True)
    neighborhood = models.CharField(_("neighborhood"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    state = models.CharField(_("state (UF)"), max_length=2, choices=STATE_CHOICES, blank=True)
    postcode = models.CharField(_("CEP"), max_length=8, blank=True, help_text=_("Digits only."))
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        related_name="customers",
    )
    plan_amount = models.DecimalField(
        _("plan amount"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    due_day = models.PositiveSmallIntegerField(
        _("due day"),
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("Day of the month the charge is due; in shorter months, the month's last day."),
    )
    billing_type = models.CharField(
        _("billing type"), max_length=10, choices=BillingType.choices, default=BillingType.TITULO
    )
    status = models.CharField(
        _("status"), max_length=10, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE
    )
    status_cause = models.CharField(
        _("status cause"), max_length=10, choices=StatusCause.choices, blank=True, editable=False
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True, editable=False)
    block_after_days = models.PositiveSmallIntegerField(
        _("block after (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "Days after the due date an open charge blocks this customer's service. "
            "Empty: the provider's setting; 0: never."
        ),
    )
    radius_username = models.CharField(
        _("RADIUS username"),
        max_length=64,
        blank=True,
        help_text=_("The subscriber's login (PPPoE/hotspot) in FreeRADIUS."),
    )
    radius_group = models.CharField(
        _("RADIUS plan group"),
        max_length=64,
        blank=True,
        help_text=_(
            "The plan's group in FreeRADIUS while the service is active. Empty: the provider's default."
        ),
    )
    portal_token = models.CharField(
        _("portal token"), max_length=64, unique=True, default=new_portal_token, editable=False
    )
    reminders_opt_out = models.BooleanField(
        _("no reminders"),
        default=False,
        db_default=False,
        help_text=_("The customer asked not to receive payment reminders (e-mail, WhatsApp, SMS)."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["status", "billing_type"], name="customer_status_type_idx"),
            models.Index(fields=["created_at"], name="customer_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["radius_username"],
                condition=~models.Q(radius_username=""),
                name="customer_unique_radius_username",
            ),
            models.CheckConstraint(
                condition=models.Q(due_day__gte=1, due_day__lte=31), name="customer_due_day_range"
            ),
            models.CheckConstraint(condition=models.Q(plan_amount__gte=0), name="customer_plan_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.document_display})"

    def clean_fields(self, exclude: object = None) -> None:
        # Staff paste documents and CEPs with punctuation; the database keeps digits only.
        self.document = digits(self.document)
        self.postcode = digits(self.postcode)
        super().clean_fields(exclude=exclude)  # type: ignore[arg-type]

    @property
    def document_display(self) -> str:
        return format_document(self.document)

    @property
    def postcode_display(self) -> str:
        return format_postcode(self.postcode)

    @property
    def is_company(self) -> bool:
        return len(self.document) == 14


class StatusChange(models.Model):
    """Append-only: one row per change of a customer's service status (when, from, to, why, who)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="status_changes"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    from_status = models.CharField(_("from"), max_length=10, choices=CustomerStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=CustomerStatus.choices)
    cause = models.CharField(_("cause"), max_length=10, choices=StatusCause.choices)
    reason = models.TextField(_("why"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        _("by (process)"), max_length=80, blank=True, help_text=_("The task or page, when no person acted.")
    )

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["customer", "at", "id"]
        indexes = [models.Index(fields=["customer", "at"], name="statuschange_customer_at_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_status or '∅'} → {self.to_status}"
