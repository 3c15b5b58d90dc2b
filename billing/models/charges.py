"""Charges (boletos), carnês, and the append-only history of every state change."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from gateways.base import MAX_INSTALLMENTS


class ChargeState(models.TextChoices):
    """A charge's lifecycle: the allowed moves are in billing.services.transitions (and its diagram in
    docs/architecture.md)."""

    PENDING = "pending", _("Pending")
    ISSUING = "issuing", _("Issuing")
    ISSUED = "issued", _("Issued")
    UNKNOWN = "unknown", _("Unknown (awaiting gateway check)")
    FAILED = "failed", _("Failed")
    CANCEL_REQUESTED = "cancel_requested", _("Cancel requested")
    CANCELLED = "cancelled", _("Cancelled")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    #: Baixado: unpaid at its due date plus the bank account's days to write off. The portal no
    #: longer offers it; a payment that still arrives is recorded (money never disappears).
    WRITTEN_OFF = "written_off", _("Written off")


#: States in which the boleto may still be paid by the subscriber.
OPEN_STATES = (ChargeState.ISSUED, ChargeState.CANCEL_REQUESTED)
#: States in which a charge bills its month: open, on its way, or paid. A cancelled, refunded or
#: written-off charge leaves its month free for a new bill.
MONTH_BILLING_STATES = (
    ChargeState.PENDING,
    ChargeState.ISSUING,
    ChargeState.ISSUED,
    ChargeState.UNKNOWN,
    ChargeState.FAILED,
    ChargeState.CANCEL_REQUESTED,
    ChargeState.PAID,
)


class Attention(models.TextChoices):
    """Why a charge waits for staff although its state alone would not say so."""

    NONE = "", _("Nothing")
    #: The gateway refused the cancel: the boleto is still payable there; the message says why.
    CANCEL_REFUSED = "cancel_refused", _("The gateway refused the cancel")
    #: The gateway could not be reached for this many attempts (GATEWAY_UNREACHABLE_ATTEMPTS).
    UNREACHABLE = "unreachable", _("The gateway could not be reached")


class CarneState(models.TextChoices):
    OPEN = "open", _("Open")
    CANCELLED = "cancelled", _("Cancelled")
    FINISHED = "finished", _("Finished")


class Carne(models.Model):
    """A booklet of monthly installments, issued to the gateway in one request.

    ``reference`` is what the gateway receives; each installment charge carries
    ``<reference>-<n>`` as its own reference.
    """

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="carnes"
    )
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        related_name="carnes",
    )
    installments = models.PositiveSmallIntegerField(_("installments"))
    amount = models.DecimalField(_("installment amount"), max_digits=12, decimal_places=2)
    first_due_date = models.DateField(_("first due date"))
    last_day_of_month = models.BooleanField(_("due on the last day of each month"), default=False)
    state = models.CharField(_("state"), max_length=12, choices=CarneState.choices, default=CarneState.OPEN)
    installment_link = models.URLField(_("carnê link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("carnê")
        verbose_name_plural = _("carnês")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(installments__gte=1, installments__lte=MAX_INSTALLMENTS),
                name="carne_installments_range",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Charge(models.Model):
    """One boleto: a título, or one installment of a carnê."""

    reference = models.CharField(
        _("reference"),
        max_length=50,
        unique=True,
        editable=False,
        help_text=_("Our key for this charge at the gateway; never changes."),
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="charges"
    )
    bank_account = models.ForeignKey(
        "providers.BankAccount",
        verbose_name=_("bank account"),
        on_delete=models.PROTECT,
        related_name="charges",
    )
    carne = models.ForeignKey(
        Carne,
        verbose_name=_("carnê"),
        on_delete=models.PROTECT,
        related_name="installment_charges",
        null=True,
        blank=True,
    )
    installment_number = models.PositiveSmallIntegerField(_("installment"), null=True, blank=True)
    billing_month = models.DateField(
        _("billing month"),
        help_text=_("First day of the month this charge bills (a carnê: each installment its own)."),
    )
    month_claim = models.DateField(
        _("month claimed"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "The billing month while this charge bills it: at most one charge per customer and month "
            "claims it. Empty once cancelled, refunded or written off, or for a second bill staff "
            "allowed with a written reason."
        ),
    )
    attention = models.CharField(
        _("needs attention because"), max_length=20, choices=Attention.choices, blank=True, default=""
    )
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    due_date = models.DateField(_("due date"))
    description = models.TextField(
        _("description"),
        max_length=600,
        help_text=_(
            "What the boleto prints. Its bank account's gateway sets the limits (Juno: 4 lines, 400 "
            "characters; Mycontas: 5 lines of 80) and what [MES], [ANO] and [PARCELA] become."
        ),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=ChargeState.choices, default=ChargeState.PENDING
    )
    state_changed_at = models.DateTimeField(_("state changed at"), auto_now_add=True)
    error_message = models.TextField(_("error message"), blank=True)
    issue_attempts = models.PositiveSmallIntegerField(_("issue attempts"), default=0)
    paid_after_cancel = models.BooleanField(
        _("paid after cancel"),
        default=False,
        help_text=_("A payment arrived after the cancel was requested or done: the money stays visible."),
    )
    # What the gateway returned
    gateway_code = models.CharField(_("gateway code"), max_length=64, blank=True)
    link = models.URLField(_("boleto link"), max_length=500, blank=True)
    checkout_url = models.URLField(_("checkout URL"), max_length=500, blank=True)
    installment_link = models.URLField(_("carnê link"), max_length=500, blank=True)
    linha_digitavel = models.CharField(_("linha digitável"), max_length=60, blank=True)
    barcode = models.CharField(_("barcode"), max_length=60, blank=True)
    gateway_bank_account = models.CharField(_("registering bank"), max_length=60, blank=True)
    our_number = models.CharField(_("nosso número"), max_length=40, blank=True)
    pix_payload = models.TextField(
        _("PIX copia e cola"), blank=True, help_text=_("The QR code is drawn from it; empty without PIX.")
    )
    pix_expires_at = models.DateTimeField(_("PIX payable until"), null=True, blank=True)
    gateway_payload = models.JSONField(_("gateway payload"), default=dict, blank=True)
    # Collecting what is owed: the second copy, payments at the counter
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("second copy of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        help_text=_("The overdue boleto this one replaces (segunda via)."),
    )
    paid_twice = models.BooleanField(
        _("paid twice: refund due"),
        default=False,
        db_default=False,
        help_text=_("More than one confirmed payment arrived for this charge: the extra must be refunded."),
    )
    gateway_cancel_due = models.BooleanField(
        _("boleto to cancel at the gateway"),
        default=False,
        db_default=False,
        help_text=_("Paid outside the gateway: its boleto is still payable there and is being cancelled."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["-due_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "month_claim"],
                condition=models.Q(month_claim__isnull=False),
                name="charge_one_claim_per_customer_month",
            ),
            models.UniqueConstraint(
                fields=["carne", "installment_number"],
                condition=models.Q(carne__isnull=False),
                name="charge_unique_installment",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="charge_amount_gte_0"),
        ]
        indexes = [
            models.Index(fields=["state", "due_date"], name="charge_state_due_idx"),
            models.Index(fields=["state", "state_changed_at"], name="charge_state_changed_idx"),
            models.Index(fields=["due_date", "id"], name="charge_due_id_idx"),
            models.Index(fields=["bank_account", "state"], name="charge_account_state_idx"),
            models.Index(fields=["gateway_code"], name="charge_gateway_code_idx"),
            models.Index(fields=["customer", "due_date"], name="charge_customer_due_idx"),
            models.Index(fields=["created_at"], name="charge_created_idx"),
            models.Index(fields=["customer", "billing_month"], name="charge_customer_month_idx"),
            models.Index(
                fields=["attention"], condition=~models.Q(attention=""), name="charge_attention_idx"
            ),
            # Covers the admin dashboard's per-account monthly aggregates (billing.selectors.dashboard):
            # read from the index alone, without visiting the rows.
            models.Index(fields=["due_date", "bank_account", "state", "amount"], name="charge_dashboard_idx"),
            # Covers the overdue list's grouping by customer (dunning.selectors.overdue_groups): only
            # open boletos, in customer order, so PostgreSQL groups them from the index alone as it
            # reads it (no hash table spilling to disk, no visit to the rows, the account included).
            models.Index(
                fields=["customer", "due_date"],
                include=["amount", "bank_account"],
                condition=models.Q(state=ChargeState.ISSUED),
                name="charge_overdue_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class StateEvent(models.Model):
    """Append-only history of a state machine: one row per state change (when, from, to, who, why).

    Each history names what changed state with its own foreign key (``subject_field``) and keeps
    its own choices of states, ordering and table.
    """

    #: The name of the foreign key to what changed state.
    subject_field: ClassVar[str]
    #: Declared by each history with its own choices.
    from_state: str
    to_state: str

    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        _("by (process)"),
        max_length=80,
        blank=True,
        help_text=_("The task or command, when no person acted."),
    )
    reason = models.TextField(_("why"), blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        subject = self.serializable_value(self.subject_field)
        return f"{subject}: {self.from_state or '∅'} → {self.to_state}"


class ChargeEvent(StateEvent):
    """One row per state change of a charge, the first one from no state."""

    subject_field = "charge"

    charge = models.ForeignKey(
        Charge, verbose_name=_("charge"), on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(_("from"), max_length=20, choices=ChargeState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=ChargeState.choices)

    class Meta:
        verbose_name = _("charge event")
        verbose_name_plural = _("charge history")
        ordering = ["charge", "at", "id"]
        indexes = [models.Index(fields=["charge", "at"], name="chargeevent_charge_at_idx")]


class CarneEvent(StateEvent):
    """One row per state change of a carnê after its creation."""

    subject_field = "carne"

    carne = models.ForeignKey(Carne, verbose_name=_("carnê"), on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(_("from"), max_length=12, choices=CarneState.choices)
    to_state = models.CharField(_("to"), max_length=12, choices=CarneState.choices)

    class Meta:
        verbose_name = _("carnê event")
        verbose_name_plural = _("carnê history")
        ordering = ["carne", "at", "id"]
        indexes = [models.Index(fields=["carne", "at"], name="carneevent_carne_at_idx")]
