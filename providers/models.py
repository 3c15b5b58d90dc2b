"""The provider and its bank accounts (Provedor › Contas Bancárias in MK-Auth)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField
from localflavor.br.br_states import STATE_CHOICES

from gateways.base import ASAAS, JUNO, MYCONTAS

#: Mycontas' published test credentials: the service validates everything and registers nothing.
MYCONTAS_TEST_ACCOUNT_CODE = "1234567890ABCDEFGHIJ"


def validate_reminder_days(value: str) -> None:
    """Whole numbers of days from the due date, comma-separated, each within 120 days."""
    parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    try:
        days = [int(part) for part in parts]
    except ValueError as exc:
        raise ValidationError(_("Use whole numbers of days separated by commas, e.g. -5,0,3,10.")) from exc
    if not days or any(abs(day) > 120 for day in days):
        raise ValidationError(_("Give at least one step, each within 120 days of the due date."))


def new_public_id() -> str:
    """256 random bits: the notification URL of an account cannot be guessed."""
    return secrets.token_urlsafe(32)


class Provider(models.Model):
    """The ISP itself: its name heads the subscriber portal. One row is expected."""

    name = models.CharField(_("name"), max_length=120)
    document = models.CharField(_("CNPJ"), max_length=14, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=25, blank=True)
    # The collection cycle (docs/collection-cycle.md); each customer may override block_after_days.
    bill_days_before_due = models.PositiveSmallIntegerField(
        _("bill days before the due date"),
        default=10,
        validators=[MaxValueValidator(28)],
        help_text=_("The monthly cycle creates each customer's charge this many days before it is due."),
    )
    block_after_days = models.PositiveSmallIntegerField(
        _("block after (days)"),
        default=15,
        validators=[MaxValueValidator(365)],
        help_text=_("Days after the due date an open charge blocks the service; 0: never."),
    )
    trust_unblock_days = models.PositiveSmallIntegerField(
        _("trust unblock days"),
        default=3,
        validators=[MaxValueValidator(30)],
        help_text=_(
            "Days of service a blocked customer gets back, once per billing cycle, before paying; "
            "0: not offered."
        ),
    )
    radius_blocked_group = models.CharField(
        _("RADIUS blocked group"),
        max_length=64,
        default="bloqueado",
        help_text=_("The FreeRADIUS group of blocked, suspended and inactive customers."),
    )
    radius_default_group = models.CharField(
        _("RADIUS default plan group"),
        max_length=64,
        blank=True,
        help_text=_("The FreeRADIUS group of active customers who have no plan group of their own."),
    )
    # Collecting what is owed
    second_copy_days = models.PositiveSmallIntegerField(
        _("second copy due in (days)"),
        default=3,
        db_default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("A second copy (segunda via) is due this many days after it is asked for."),
    )
    reminders_enabled = models.BooleanField(
        _("send reminders"),
        default=True,
        db_default=True,
        help_text=_("Send the reminder schedule's e-mails and webhooks."),
    )
    reminder_days = models.CharField(
        _("reminder steps"),
        max_length=60,
        default="-5,0,3,10",
        db_default="-5,0,3,10",
        validators=[validate_reminder_days],
        help_text=_(
            "Days from the due date, separated by commas: -5 is five days before, 0 the due date, "
            "3 three days after."
        ),
    )
    reminder_webhook_url = models.URLField(
        _("reminder webhook URL"),
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "Each reminder is also posted here as JSON (a WhatsApp or SMS relay); empty: e-mail only."
        ),
    )

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("provider")

    def __str__(self) -> str:
        return self.name


class Gateway(models.TextChoices):
    JUNO = JUNO, _("Juno / Boleto Fácil")
    MYCONTAS = MYCONTAS, _("Mycontas")
    ASAAS = ASAAS, _("Asaas")


class AsaasBillingType(models.TextChoices):
    """How an Asaas charge may be paid (its ``billingType``)."""

    BOLETO = "BOLETO", _("Boleto with PIX QR code")
    UNDEFINED = "UNDEFINED", _("Payer chooses (boleto, PIX or card)")


class DocumentKind(models.TextChoices):
    """Espécie de documento for remessa files (CNAB)."""

    DM = "02", _("02 - (DM) Duplicata mercantil")
    DS = "04", _("04 - (DS) Duplicata de serviço")
    NCI = "10", _("10 - (NCI) Nota de crédito industrial")
    RC = "17", _("17 - (RC) Recibo")
    OUTROS = "99", _("99 - Outros")


MAX_DAYS_TO_UPDATE = 29


#: The bank account's fields stored encrypted: never shown whole, and decrypted only where used.
SECRET_FIELDS = ("token", "sandbox_token", "account_password", "webhook_token")


class BankAccount(models.Model):
    """A gateway account. Credentials are encrypted at rest and never shown back in full."""

    public_id = models.CharField(
        _("public id"), max_length=64, unique=True, default=new_public_id, editable=False
    )
    name = models.CharField(_("account name"), max_length=80)
    gateway = models.CharField(_("bank / gateway"), max_length=20, choices=Gateway.choices)
    cedente = models.CharField(
        _("cedente"), max_length=200, blank=True, help_text=_("The provider's name as the gateway shows it.")
    )
    state = models.CharField(
        _("state (UF)"),
        max_length=2,
        choices=STATE_CHOICES,
        blank=True,
        help_text=_("Used for state holidays when due dates are moved to business days."),
    )
    # Juno and Asaas (its API key, one per environment)
    token = EncryptedCharField(_("production token"), max_length=255, blank=True, null=True)
    sandbox_token = EncryptedCharField(
        _("sandbox token"),
        max_length=255,
        blank=True,
        null=True,
        help_text=_("When filled in, this account talks to the sandbox; clear it to go back to production."),
    )
    # Asaas
    webhook_token = EncryptedCharField(
        _("webhook token"),
        max_length=255,
        blank=True,
        null=True,
        help_text=_(
            "The authentication token set in Asaas' webhook settings; webhooks without it are refused."
        ),
    )
    billing_type = models.CharField(
        _("Asaas billing type"),
        max_length=10,
        choices=AsaasBillingType.choices,
        default=AsaasBillingType.BOLETO,
    )
    # Mycontas
    account_code = models.CharField(_("account code"), max_length=20, blank=True)
    account_password = EncryptedCharField(_("account password"), max_length=255, blank=True, null=True)
    # Boleto options
    pass_customer_email = models.BooleanField(
        _("pass the customer's e-mail"),
        default=False,
        help_text=_("The gateway e-mails the boleto and due-date reminders to the customer."),
    )
    contra_apresentacao = models.BooleanField(
        _("contra-apresentação"),
        default=False,
        help_text=_("Boletos with no payment deadline (Mycontas only: Juno boletos always have one)."),
    )
    max_days_to_update = models.PositiveSmallIntegerField(
        _("max days to update"),
        default=MAX_DAYS_TO_UPDATE,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS_TO_UPDATE)],
        help_text=_("Days after the due date the boleto is still accepted (1 to 29)."),
    )
    fine_percent = models.DecimalField(
        _("fine %"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("2.00"))],
    )
    daily_interest_percent = models.DecimalField(
        _("daily interest %"),
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.033"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.33"))],
    )
    days_to_write_off = models.PositiveSmallIntegerField(
        _("days to write off"),
        default=15,
        validators=[MaxValueValidator(29)],
    )
    next_remessa_number = models.PositiveIntegerField(_("next remessa number"), default=1)
    document_kind = models.CharField(
        _("document kind"), max_length=2, choices=DocumentKind.choices, default=DocumentKind.NCI
    )
    requests_per_second = models.DecimalField(
        _("requests per second"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Upper bound on calls to this account's gateway, shared by every worker."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fine_percent__gte=0, fine_percent__lte=Decimal("2.00")),
                name="bankaccount_fine_percent_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    daily_interest_percent__gte=0, daily_interest_percent__lte=Decimal("0.33")
                ),
                name="bankaccount_daily_interest_range",
            ),
            models.CheckConstraint(
                condition=models.Q(max_days_to_update__gte=1, max_days_to_update__lte=29),
                name="bankaccount_max_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(days_to_write_off__lte=29), name="bankaccount_write_off_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sandbox(self) -> bool:
        if self.gateway in (Gateway.JUNO, Gateway.ASAAS):
            return bool(self.sandbox_token)
        return self.account_code == MYCONTAS_TEST_ACCOUNT_CODE
