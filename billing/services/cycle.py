"""The monthly cycle, run every day: each customer's next charge, a set number of days before it is due.

For ``today`` and the provider's ``bill_days_before_due`` (default 10), the horizon is today + that
many days, and:

- título customers (and carnê customers holding no carnê) get the charge of every month whose due
  date (the due day, moved to a business day) falls between today and the horizon: the billing run
  (billing.services.billing_run) limited to those due dates;
- carnê customers whose current carnê has at most one unpaid installment left get the next carnê,
  starting the month after the current one's last installment (:func:`carnes_renew`).

Running it twice, or beside ``manage.py billing_run``, bills nothing twice: every charge claims its
month in the ``charge_one_claim_per_customer_month`` constraint and a renewal looks for a later carnê
first. Blocked customers are billed (the debt does not stop the month); suspended and inactive ones
are not.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing.models import Carne, CarneState
from billing.services import billing_run, charges, leases
from billing.services.dates import add_months, due_date_for, next_business_day
from billing.services.descriptions import default_carne_description
from core.dates import today as sao_paulo_today
from core.errors import ApplicationError
from customers.models import BILLED_STATUSES, BillingType
from providers.selectors import provider_settings

logger = logging.getLogger(__name__)

CYCLE_LEASE = "monthly_cycle"
CYCLE_LEASE_TTL = dt.timedelta(hours=1)
ACTOR_LABEL = "task:monthly_cycle"


@dataclass
class CycleResult:
    today: dt.date
    horizon: dt.date
    runs: list[billing_run.BillingRunResult] = field(default_factory=list)
    carnes_renewed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(run.total("created") for run in self.runs)

    def as_dict(self) -> dict[str, object]:
        return {
            "today": self.today.isoformat(),
            "horizon": self.horizon.isoformat(),
            "created": self.created,
            "carnes_renewed": self.carnes_renewed,
            "errors": len(self.errors),
        }


def horizon(*, today: dt.date, days: int) -> dt.date:
    return today + dt.timedelta(days=days)


def months_until(*, today: dt.date, horizon: dt.date) -> list[dt.date]:
    """First days of the months from today's to the horizon's."""
    months, month = [], today.replace(day=1)
    while month <= horizon:
        months.append(month)
        month = add_months(month, 1)
    return months


def cycle_run(*, today: dt.date | None = None, dispatch: bool = True) -> CycleResult | None:
    """One day of the cycle (see the module docstring); None when another run holds the lease."""
    day = today or sao_paulo_today()
    days = provider_settings().bill_days_before_due
    result = CycleResult(today=day, horizon=horizon(today=day, days=days))
    try:
        with leases.lease(CYCLE_LEASE, ttl=CYCLE_LEASE_TTL):
            for month in months_until(today=day, horizon=result.horizon):
                run = billing_run.billing_run_generate(month=month, due_until=result.horizon)
                if dispatch:
                    billing_run.billing_run_dispatch(run)
                result.runs.append(run)
                result.errors.extend(run.errors)
            result.carnes_renewed = carnes_renew(today=day, dispatch=dispatch, errors=result.errors)
    except leases.LeaseHeld:
        logger.info("monthly cycle: another run is in progress")
        return None
    logger.info("monthly cycle %s: %s", day, result.as_dict())
    return result


def carnes_to_renew() -> list[tuple[int, dt.date]]:
    """(carnê id, month of its last installment) of each customer's latest carnê with at most one
    unpaid installment left, for carnê customers still billed and holding no later carnê."""
    later = Carne.objects.filter(customer=OuterRef("customer"), first_due_date__gt=OuterRef("first_due_date"))
    rows = (
        Carne.objects.filter(
            state__in=(CarneState.OPEN, CarneState.FINISHED),
            customer__status__in=BILLED_STATUSES,
            customer__billing_type=BillingType.CARNE,
        )
        .exclude(Exists(later.exclude(state=CarneState.CANCELLED)))
        .annotate(
            unpaid=Count(
                "installment_charges",
                filter=Q(installment_charges__state__in=billing_run.OPEN_INSTALLMENT_STATES),
            ),
            last_month=Max(Coalesce("installment_charges__billing_month", "installment_charges__due_date")),
        )
        .filter(unpaid__lte=1)
        .values_list("pk", "last_month")
    )
    return [(pk, last.replace(day=1)) for pk, last in rows if last is not None]


def carnes_renew(*, today: dt.date, dispatch: bool = True, errors: list[str] | None = None) -> int:
    """The next carnê for each customer whose carnê is nearly paid (see :func:`carnes_to_renew`)."""
    renewed = 0
    for carne_id, last_month in carnes_to_renew():
        current = Carne.objects.select_related("customer__bank_account").get(pk=carne_id)
        customer = current.customer
        first_month = add_months(last_month, 1)
        uf = customer.bank_account.state
        due = next_business_day(due_date_for(first_month.year, first_month.month, customer.due_day), uf)
        if due < today or customer.plan_amount <= 0:
            continue
        try:
            with transaction.atomic():
                carne = charges.carne_create(
                    customer=customer,
                    installments=billing_run.CARNE_INSTALLMENTS,
                    amount=customer.plan_amount,
                    first_due_date=due,
                    description=default_carne_description(
                        gateway=customer.bank_account.gateway,
                        first_month=first_month,
                        last_month=add_months(first_month, billing_run.CARNE_INSTALLMENTS - 1),
                    ),
                    first_billing_month=first_month,
                    enqueue=dispatch,
                )
        except (IntegrityError, ApplicationError) as exc:  # a month already billed: nothing twice
            message = getattr(exc, "message", None) or _("a charge already claims one of these months")
            if errors is not None:
                errors.append(f"{customer.name} (#{customer.pk}): {message}")
            continue
        renewed += 1
        logger.info("carnê %s renewed by %s", current.reference, carne.reference)
    return renewed
