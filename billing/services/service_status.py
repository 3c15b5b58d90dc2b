"""The subscriber's service status, decided from their charges (rules: billing.services.overdue_policy).

- :func:`overdue_pass`, daily: blocks every active customer with a charge open past their limit
  (and no trust unblock running), blocks again those whose trust unblock ended unpaid, and unblocks
  blocked-for-debt customers with nothing overdue past the limit any more (the safety net behind
  :func:`service_status_refresh`). Set-based: a fixed number of queries whatever the number of
  customers (one per distinct per-customer override of the limit, at most).
- :func:`service_status_refresh`, right after a charge stops being open (paid from a notification,
  the reconciliation or by staff; cancelled; refunded does not count): gives the service back
  within seconds when nothing overdue past the limit is left. ``transition`` enqueues it after
  commit; see billing.services.transitions.
- :func:`trust_unblock_grant`: the *desbloqueio de confiança*, from the admin or the portal.

Only charges the subscriber could have paid count: ``issued`` ones (and written off ones, still
owed), never pending, failed or unknown ones (no boleto reached them), never charges whose cancel
staff asked for, and never those of a contra-apresentação account (no payment deadline).
Customers blocked by staff by hand are never unblocked here; suspended and inactive ones are left
alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from billing.models import Charge, ChargeState, TrustUnblock
from billing.services import leases
from billing.services import overdue_policy as policy
from billing.services.charge_effects import OVERDUE_STATES
from core.dates import today as sao_paulo_today
from core.errors import ApplicationError
from customers.models import Customer, CustomerStatus, StatusCause
from customers.services import customer_change_status, customers_change_status
from providers.models import BankAccount
from providers.selectors import provider_settings

S = ChargeState

logger = logging.getLogger(__name__)

PASS_LEASE = "overdue_pass"  # noqa: S105 - a lease name, not a password
PASS_LEASE_TTL = dt.timedelta(minutes=30)
ACTOR_PASS = "task:overdue_pass"  # noqa: S105 - who acted, not a password
ACTOR_REFRESH = "task:service_status_refresh"


@dataclass
class PassResult:
    today: dt.date
    blocked: int = 0
    blocked_again: int = 0
    unblocked: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"blocked": self.blocked, "blocked_again": self.blocked_again, "unblocked": self.unblocked}


def _payable_account_ids() -> list[int]:
    return list(BankAccount.objects.filter(contra_apresentacao=False).values_list("pk", flat=True))


def _open_charges(*, accounts: list[int]) -> QuerySet[Charge]:
    """What the customer still owes: issued boletos, and written-off ones unless a bill staff issued
    again for the same month (the written-off one freed it) has been paid."""
    same_month = Charge.objects.filter(customer=OuterRef("customer"), billing_month=OuterRef("billing_month"))
    billed_again_and_paid = Exists(same_month.filter(state=S.PAID))
    return Charge.objects.filter(state__in=OVERDUE_STATES, bank_account_id__in=accounts).exclude(
        Q(state=S.WRITTEN_OFF) & Q(billed_again_and_paid)
    )


def overdue_condition(*, today: dt.date, default_days: int, accounts: list[int] | None = None) -> Q:
    """Customers (as a ``Q`` on Customer) with a charge open past their own limit on ``today``.

    One ``EXISTS`` per distinct limit: the provider's default for customers without an override,
    and each override value staff set.
    """
    accounts = _payable_account_ids() if accounts is None else accounts
    overrides = (
        Customer.objects.filter(block_after_days__isnull=False)
        .values_list("block_after_days", flat=True)
        .distinct()
        .order_by()
    )
    condition = Q(pk__in=[])
    for override in [None, *overrides]:
        days = policy.block_after_days(customer_days=override, provider_days=default_days)
        limit = policy.last_tolerated_due_date(today=today, days=days)
        if limit is None:
            continue
        overdue = _open_charges(accounts=accounts).filter(customer=OuterRef("pk"), due_date__lte=limit)
        who = Q(block_after_days__isnull=True) if override is None else Q(block_after_days=override)
        condition |= Q(who, Exists(overdue))
    return condition


def _trust_running(today: dt.date) -> Exists:
    return Exists(TrustUnblock.objects.filter(customer=OuterRef("pk"), last_day__gte=today))


def overdue_pass(*, today: dt.date | None = None) -> PassResult | None:
    """The daily pass (see the module docstring); None when another pass is running."""
    day = today or sao_paulo_today()
    try:
        with leases.lease(PASS_LEASE, ttl=PASS_LEASE_TTL):
            return _overdue_pass(day)
    except leases.LeaseHeld:
        logger.info("overdue pass: another one is running")
        return None


def _without_jit() -> None:
    """PostgreSQL would spend seconds compiling these large set-based statements (its JIT triggers on
    their estimated cost) to save less than that running them: off for this transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _overdue_pass(today: dt.date) -> PassResult:
    provider = provider_settings()
    overdue = overdue_condition(today=today, default_days=provider.block_after_days)
    trust = _trust_running(today)
    result = PassResult(today=today)
    served = Customer.objects.filter(status=CustomerStatus.ACTIVE).filter(overdue).exclude(trust)
    with transaction.atomic():
        _without_jit()
        result.blocked_again = len(
            customers_change_status(
                queryset=served.filter(status_cause=StatusCause.TRUST),
                from_status=CustomerStatus.ACTIVE,
                to_status=CustomerStatus.BLOCKED,
                cause=StatusCause.OVERDUE,
                reason=_("The trust unblock ended with charges still overdue."),
                actor_label=ACTOR_PASS,
            )
        )
    with transaction.atomic():
        _without_jit()
        result.blocked = len(
            customers_change_status(
                queryset=served,
                from_status=CustomerStatus.ACTIVE,
                to_status=CustomerStatus.BLOCKED,
                cause=StatusCause.OVERDUE,
                reason=_("A charge is still open past the overdue limit."),
                actor_label=ACTOR_PASS,
            )
        )
    with transaction.atomic():
        _without_jit()
        result.unblocked = len(
            customers_change_status(
                queryset=Customer.objects.filter(
                    status=CustomerStatus.BLOCKED, status_cause=StatusCause.OVERDUE
                ).exclude(overdue),
                from_status=CustomerStatus.BLOCKED,
                to_status=CustomerStatus.ACTIVE,
                cause=StatusCause.PAYMENT,
                reason=_("Nothing is overdue past the limit any more."),
                actor_label=ACTOR_PASS,
            )
        )
    logger.info("overdue pass %s: %s", today, result.as_dict())
    return result


def _is_overdue(customer: Customer, *, today: dt.date) -> bool:
    provider = provider_settings()
    days = policy.block_after_days(
        customer_days=customer.block_after_days, provider_days=provider.block_after_days
    )
    limit = policy.last_tolerated_due_date(today=today, days=days)
    if limit is None:
        return False
    return (
        _open_charges(accounts=_payable_account_ids()).filter(customer=customer, due_date__lte=limit).exists()
    )


def service_status_refresh(*, customer_id: int, reason: str = "") -> bool:
    """Unblock a blocked-for-debt customer now when nothing overdue past the limit is left.

    Returns True when the customer was unblocked. Safe to run any number of times.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None or customer.status != CustomerStatus.BLOCKED:
            return False
        if customer.status_cause != StatusCause.OVERDUE or _is_overdue(customer, today=sao_paulo_today()):
            return False
        customer_change_status(
            customer=customer,
            to_status=CustomerStatus.ACTIVE,
            cause=StatusCause.PAYMENT,
            reason=reason or _("Nothing is overdue past the limit any more."),
            actor_label=ACTOR_REFRESH,
        )
    return True


class TrustUnblockRefused(ApplicationError):
    def __init__(self, refusal: policy.Refusal) -> None:
        super().__init__(str(refusal.message))
        self.code = refusal.code


def oldest_overdue_due_date(customer: Customer, *, today: dt.date) -> dt.date | None:
    """The due date of the customer's oldest charge still open after its due date."""
    found: dt.date | None = (
        _open_charges(accounts=_payable_account_ids())
        .filter(customer=customer, due_date__lt=today)
        .aggregate(oldest=Min("due_date"))["oldest"]
    )
    return found


def trust_unblock_check(customer: Customer, *, today: dt.date | None = None) -> policy.Refusal | None:
    """None when the customer may have a trust unblock now; else why not (shown on the page)."""
    day = today or sao_paulo_today()
    provider = provider_settings()
    oldest = oldest_overdue_due_date(customer, today=day)
    used = None
    if oldest is not None:
        used_at = (
            TrustUnblock.objects.filter(customer=customer, cycle=policy.billing_cycle(oldest))
            .values_list("granted_on", flat=True)
            .first()
        )
        used = used_at
    return policy.trust_refusal(
        status_is_blocked=customer.status == CustomerStatus.BLOCKED,
        blocked_for_debt=customer.status_cause == StatusCause.OVERDUE,
        trust_days=provider.trust_unblock_days,
        oldest_overdue_due_date=oldest,
        used_in_cycle_on=used,
    )


def trust_unblock_grant(
    *, customer_id: int, actor: AbstractBaseUser | None = None, actor_label: str = ""
) -> TrustUnblock:
    """Give a blocked-for-debt customer their service back for the provider's trust days.

    Raises :class:`TrustUnblockRefused` (with the reason fit for the subscriber) when the rules
    say no: not blocked, blocked by staff, nothing overdue, or already used for this cycle.
    """
    day = sao_paulo_today()
    provider = provider_settings()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        refusal = trust_unblock_check(customer, today=day)
        if refusal is not None:
            raise TrustUnblockRefused(refusal)
        oldest = oldest_overdue_due_date(customer, today=day)
        assert oldest is not None  # trust_unblock_check refuses when nothing is overdue
        last_day = policy.trust_last_day(today=day, days=provider.trust_unblock_days)
        try:
            with transaction.atomic():
                trust = TrustUnblock.objects.create(
                    customer=customer,
                    cycle=policy.billing_cycle(oldest),
                    granted_on=day,
                    last_day=last_day,
                    actor=actor if isinstance(actor, User) and actor.is_authenticated else None,
                    actor_label=actor_label[:80],
                )
        except IntegrityError:  # a concurrent request won the race for this cycle
            raise TrustUnblockRefused(
                policy.Refusal(
                    policy.ALREADY_USED, _("A trust unblock was already used for this billing cycle.")
                )
            ) from None
        customer_change_status(
            customer=customer,
            to_status=CustomerStatus.ACTIVE,
            cause=StatusCause.TRUST,
            reason=_("Trust unblock until %(date)s.") % {"date": last_day.strftime("%d/%m/%Y")},
            actor=actor,
            actor_label=actor_label,
        )
    return trust
