"""What the subscriber portal reads: a fixed number of queries whatever the number of charges."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from billing.models import OPEN_STATES, Charge, ChargeState, Payment, TrustUnblock
from billing.services import overdue_policy as policy
from billing.services import service_status
from billing.services.amounts import charge_amount_due, is_overdue
from billing.services.dates import add_months
from billing.services.descriptions import printed_lines
from billing.services.second_copy import LIVE_STATES
from core.links import safe_gateway_link
from customers.documents import mask_document
from customers.models import Customer, CustomerStatus, StatusCause
from providers.models import Provider
from providers.selectors import current_provider, provider_settings

#: Tokens are ``secrets.token_urlsafe(32)`` (43 characters); anything far off is not looked up.
_TOKEN_MIN_LENGTH = 16
_TOKEN_MAX_LENGTH = 64
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

PAYMENT_HISTORY_MONTHS = 12


@dataclass(frozen=True)
class OpenCharge:
    charge: Charge
    amount_due_today: Decimal
    overdue: bool
    has_due_date: bool
    #: The boleto's and the carnê's pages at the gateway, "" unless core.links allows them.
    boleto_link: str
    carne_link: str
    #: The description as the boleto prints it (see billing.services.descriptions).
    description_lines: tuple[str, ...]
    #: Issued, but the gateway has not yet told us the boleto's link or linha digitável (Mycontas
    #: sends them in its return POST): the portal says it is being prepared.
    preparing: bool = False
    #: A second copy of this boleto is on its way (being issued).
    copy_on_its_way: bool = False
    #: The subscriber may ask for a second copy of it now.
    second_copy_offered: bool = False

    @property
    def has_late_fees(self) -> bool:
        return self.amount_due_today != self.charge.amount


@dataclass(frozen=True)
class ServiceBox:
    """The subscriber's service status, when there is something to say about it."""

    blocked: bool
    #: Blocked by the overdue policy (not by the provider's staff).
    for_debt: bool = True
    #: The last day of a trust unblock running now.
    trust_until: dt.date | None = None
    #: A trust unblock may be asked for now (the button is shown).
    can_ask_trust: bool = False
    trust_days: int = 0
    #: Why a trust unblock cannot be given now (shown instead of the button).
    refusal: str = ""


@dataclass(frozen=True)
class PortalPage:
    provider: Provider | None
    customer: Customer
    masked_document: str
    open_charges: list[OpenCharge]
    payments: list[Payment]
    payments_since: dt.date
    today: dt.date
    service: ServiceBox | None = None


def portal_customer(token: str) -> Customer | None:
    """The customer this portal link belongs to, or None (unknown, revoked or malformed token)."""
    if not (_TOKEN_MIN_LENGTH <= len(token) <= _TOKEN_MAX_LENGTH) or not set(token) <= _TOKEN_ALPHABET:
        return None
    return Customer.objects.filter(portal_token=token).first()


def _open_charge(charge: Charge, today: dt.date) -> OpenCharge:
    boleto_link = safe_gateway_link(charge.bank_account.gateway, charge.link)
    live = bool(getattr(charge, "has_live_copy", False))
    overdue = is_overdue(charge, on=today)
    return OpenCharge(
        copy_on_its_way=live,
        second_copy_offered=overdue and not live and charge.state == ChargeState.ISSUED,
        charge=charge,
        amount_due_today=charge_amount_due(charge, on=today),
        overdue=overdue,
        has_due_date=not charge.bank_account.contra_apresentacao,
        boleto_link=boleto_link,
        carne_link=safe_gateway_link(
            charge.bank_account.gateway,
            charge.installment_link or (charge.carne.installment_link if charge.carne else ""),
        ),
        description_lines=printed_lines(
            charge.description,
            gateway=charge.bank_account.gateway,
            due_date=charge.due_date,
            installment=charge.installment_number or 1,
            issued_on=timezone.localdate(charge.created_at),
        ),
        preparing=not (boleto_link or charge.linha_digitavel),
    )


def service_box(customer: Customer, *, today: dt.date, overdue: bool) -> ServiceBox | None:
    """Nothing for a customer simply active (no query); the block, or the trust unblock running while
    a boleto is still ``overdue``, otherwise."""
    if customer.status == CustomerStatus.BLOCKED:
        refusal = service_status.trust_unblock_check(customer, today=today)
        show_refusal = refusal is not None and refusal.code in (policy.ALREADY_USED, policy.NOTHING_OVERDUE)
        return ServiceBox(
            blocked=True,
            for_debt=customer.status_cause == StatusCause.OVERDUE,
            can_ask_trust=refusal is None,
            trust_days=provider_settings().trust_unblock_days,
            refusal=str(refusal.message) if refusal is not None and show_refusal else "",
        )
    if customer.status == CustomerStatus.ACTIVE and customer.status_cause == StatusCause.TRUST and overdue:
        last_day = (
            TrustUnblock.objects.filter(customer=customer, last_day__gte=today)
            .order_by("-last_day")
            .values_list("last_day", flat=True)
            .first()
        )
        return ServiceBox(blocked=False, trust_until=last_day) if last_day else None
    return None


def portal_page(*, customer: Customer, today: dt.date) -> PortalPage:
    open_charges = (
        Charge.objects.filter(customer=customer, state__in=OPEN_STATES)
        # A boleto whose second copy is issued is being cancelled: the copy is the one to pay.
        .exclude(replacements__state=ChargeState.ISSUED)
        .select_related("bank_account", "carne", "replaces")
        .annotate(has_live_copy=Exists(Charge.objects.filter(replaces=OuterRef("pk"), state__in=LIVE_STATES)))
        .order_by("due_date", "id")
    )
    since = add_months(today.replace(day=1), -(PAYMENT_HISTORY_MONTHS - 1))
    payments = (
        Payment.objects.filter(charge__customer=customer)
        .filter(Q(paid_on__gte=since) | Q(paid_on__isnull=True, created_at__date__gte=since))
        .select_related("charge")
        .order_by("-paid_on", "-id")
    )
    charges = [_open_charge(charge, today) for charge in open_charges]
    return PortalPage(
        provider=current_provider(),
        customer=customer,
        masked_document=mask_document(customer.document),
        open_charges=charges,
        payments=list(payments),
        payments_since=since,
        today=today,
        service=service_box(customer, today=today, overdue=any(c.overdue for c in charges)),
    )
