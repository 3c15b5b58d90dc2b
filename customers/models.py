"""Subscribers of the provider, each billed by one bank account as a título or a carnê."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
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
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked")
    INACTIVE = "inactive", _("Inactive")


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
    portal_token = models.CharField(
        _("portal token"), max_length=64, unique=True, default=new_portal_token, editable=False
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
