"""The overdue list (*inadimplentes*): who owes, since when, how much today, and what was sent.

Built in two steps so that a page costs the same whatever the number of customers:

1. :func:`overdue_groups` groups the overdue boletos (``state = issued`` and due before today) by
   customer over the charge table alone (the partial covering index ``charge_overdue_idx``, in
   customer order, answers it without reading the rows): count, oldest due date, face total.
   Sorting and paging happen there.
2. For the customers of one page only: their rows, the last reminder sent (:func:`last_reminders`)
   and what they owe today (:func:`amounts_due_today`, with the one amount-due rule of
   :func:`billing.services.amounts.charge_amount_due`, so fine and interest are never computed twice
   in two ways).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from billing.models import Charge, ChargeState
from billing.services.amounts import charge_amount_due
from dunning.models import Outcome, ReminderLog
from providers.models import BankAccount

#: Days-late buckets offered as filters: (key, first day, last day or None).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-15", 1, 15),
    ("16-30", 16, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91+", 91, None),
)


def overdue_filter(today: dt.date) -> Q:
    """Open boletos past their due date (contra-apresentação boletos are never late)."""
    return Q(state=ChargeState.ISSUED, due_date__lt=today, bank_account__contra_apresentacao=False)


def overdue_groups(
    *, today: dt.date, customers: QuerySet | None = None, bucket: str = "", account_id: int | None = None
) -> QuerySet:
    """One row per customer with an overdue boleto: ``customer_id``, ``overdue_count``,
    ``oldest_due`` and ``face_total``; only ``customers`` (a filtered customer queryset) if given,
    only the boletos of bank account ``account_id`` if given."""
    # "Not one of the contra-apresentação accounts" (a handful of ids PostgreSQL hashes once) rather
    # than a join to the accounts: a join would make it read every row instead of the index alone.
    charges = Charge.objects.filter(state=ChargeState.ISSUED, due_date__lt=today).exclude(
        bank_account__in=BankAccount.objects.filter(contra_apresentacao=True).values("pk")
    )
    if account_id is not None:
        charges = charges.filter(bank_account_id=account_id)
    if customers is not None:
        charges = charges.filter(customer_id__in=customers.order_by().values("pk"))
    groups = (
        charges.order_by()
        .values("customer_id")
        .annotate(overdue_count=Count("*"), oldest_due=Min("due_date"), face_total=Sum("amount"))
    )
    return in_bucket(groups, bucket, today=today) if bucket else groups


def in_bucket(queryset: QuerySet, key: str, *, today: dt.date) -> QuerySet:
    """Rows whose oldest overdue boleto is ``key`` days late (a :data:`BUCKETS` key)."""
    for name, first, last in BUCKETS:
        if name == key:
            queryset = queryset.filter(oldest_due__lte=today - dt.timedelta(days=first))
            if last is not None:
                queryset = queryset.filter(oldest_due__gte=today - dt.timedelta(days=last))
            return queryset
    return queryset


def last_reminders(customer_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """When the last reminder was sent to each of these customers (absent: never)."""
    rows = (
        ReminderLog.objects.filter(customer_id__in=list(customer_ids), outcome=Outcome.SENT)
        .order_by()
        .values("customer_id")
        .annotate(last=Max("sent_at"))
    )
    return {row["customer_id"]: row["last"] for row in rows}


def amounts_due_today(
    customer_ids: Iterable[int], *, today: dt.date, account_id: int | None = None
) -> dict[int, Decimal]:
    """What each customer owes today on their overdue boletos (fine and interest included), only
    on those of bank account ``account_id`` if given (as :func:`overdue_groups` counted them)."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    charges = Charge.objects.filter(overdue_filter(today), customer_id__in=list(customer_ids)).select_related(
        "bank_account"
    )
    if account_id is not None:
        charges = charges.filter(bank_account_id=account_id)
    for charge in charges.only(
        "customer_id",
        "amount",
        "due_date",
        "bank_account__fine_percent",
        "bank_account__daily_interest_percent",
        "bank_account__max_days_to_update",
        "bank_account__contra_apresentacao",
    ):
        totals[charge.customer_id] += charge_amount_due(charge, on=today)
    return dict(totals)
