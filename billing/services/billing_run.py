"""The monthly billing run: one charge per active customer and month, generated in bulk.

For a month (its first day, ``billing_month``):

Active and blocked customers are billed (the debt does not stop the month); suspended and inactive
ones are not. With ``due_until`` (the daily cycle, billing.services.cycle) only customers whose due
date falls on or before that day are considered; the others are left for a later run.

- customers billed by *título* get that month's título at their plan amount, due on their due day
  (:func:`~billing.services.dates.due_date_for`), moved to the next business day of their bank
  account's UF (weekends, national and state holidays);
- customers billed by *carnê* get a new 12-installment carnê starting that month once their current
  carnê has no open installment left for this month or later.

At most one charge per customer and month: the database constraint
``charge_one_claim_per_customer_month`` guarantees it even against a concurrent run; customers
already billed are filtered out first and the inserts ignore any conflict left, so running the
same month twice creates nothing.

Títulos are written with multi-row INSERTs in batches (charges, then their creation events), with
no query per customer; carnês go through :func:`~billing.services.charges.carne_create`. The charges
are then handed to the issue task (one per título, one per carnê), or issued here with ``sync``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from billing.models import Charge, ChargeEvent, ChargeState
from billing.services import charges, sweep
from billing.services.dates import add_months, due_date_for, next_business_day
from billing.services.descriptions import default_carne_description
from core.dates import today
from core.errors import ApplicationError
from core.queue import ISSUE_CHARGE, enqueue
from customers.models import BILLED_STATUSES, BillingType, Customer
from providers.models import BankAccount

logger = logging.getLogger(__name__)
S = ChargeState

CARNE_INSTALLMENTS = 12
BATCH_SIZE = 2000
ACTOR_LABEL = "billing_run"
#: Installment states that still bill a month: while one exists, no new carnê is made.
OPEN_INSTALLMENT_STATES = (S.PENDING, S.ISSUING, S.ISSUED, S.UNKNOWN, S.CANCEL_REQUESTED, S.FAILED)

# Reasons a customer gets nothing (the summary counts them). Kept in English as counter keys (logs,
# tests); marked for the catalogue and translated when shown (the billing_run command).
ALREADY_BILLED = gettext_noop("already billed this month")
OPEN_CARNE = gettext_noop("carnê still has open installments")
DUE_DATE_PASSED = gettext_noop("due date already passed")
NO_AMOUNT = gettext_noop("plan amount is zero")

Progress = Callable[[int], None]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the month's first day; ValueError with a message fit for the command line."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
        raise ValueError(_("Invalid month %(month)r: expected YYYY-MM, e.g. 2026-12.") % {"month": text})
    return dt.date(int(match[1]), int(match[2]), 1)


#: The preview names at most this many skipped customers (the counts cover them all).
SKIPPED_LIST_LIMIT = 500


@dataclass
class AccountTally:
    created: int = 0  # charges created (a carnê counts its installments)
    amount: Decimal = Decimal("0.00")  # their total
    skipped: int = 0  # customers who got nothing, with a reason in BillingRunResult.reasons
    queued: int = 0  # issue tasks queued (one per título, one per carnê) or, with sync, issued
    failed: int = 0  # customers or issues that did not go through


@dataclass
class BillingRunResult:
    month: dt.date
    dry_run: bool = False
    #: Only customers due on or before this day (the daily cycle); None: the whole month.
    due_until: dt.date | None = None
    by_account: dict[int, AccountTally] = field(default_factory=dict)
    account_names: dict[int, str] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    #: (customer id, reason) of the first SKIPPED_LIST_LIMIT customers skipped.
    skipped_customers: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: (bank account id, charge id) to issue: each título, and each carnê's first installment.
    to_issue: list[tuple[int, int]] = field(default_factory=list)

    def tally(self, account_id: int) -> AccountTally:
        return self.by_account.setdefault(account_id, AccountTally())

    def total(self, name: str) -> int:
        return sum(getattr(t, name) for t in self.by_account.values())

    @property
    def total_skipped(self) -> int:
        return self.total("skipped")

    def total_amount(self) -> Decimal:
        return sum((t.amount for t in self.by_account.values()), Decimal("0.00"))


def default_description(month: dt.date) -> str:
    """The boleto's text: the month billed (not the month of issue, which [MES] would give)."""
    return _("Monthly fee %(month)02d/%(year)d") % {"month": month.month, "year": month.year}


@lru_cache(maxsize=4096)
def _due(year: int, month: int, due_day: int, uf: str) -> dt.date:
    return next_business_day(due_date_for(year, month, due_day), uf)


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _customers(
    billing_type: str, account_id: int | None, month: dt.date, due_until: dt.date | None
) -> Iterable[tuple]:
    rows = Customer.objects.filter(status__in=BILLED_STATUSES, billing_type=billing_type)
    if account_id is not None:
        rows = rows.filter(bank_account_id=account_id)
    # In the horizon's month a due day past the horizon's day cannot be due by then (days are only
    # ever moved later); on the month's last day every due day may be (31 falls on the 30th, say).
    horizon_month = due_until is not None and (due_until.year, due_until.month) == (month.year, month.month)
    if (
        due_until is not None
        and horizon_month
        and due_until.day < calendar.monthrange(month.year, month.month)[1]
    ):
        rows = rows.filter(due_day__lte=due_until.day)
    return (
        rows.order_by("pk")
        .values_list("pk", "bank_account_id", "plan_amount", "due_day")
        .iterator(chunk_size=BATCH_SIZE)
    )


def _billed(month: dt.date, first_id: int, last_id: int) -> set[int]:
    """Customers in [first_id, last_id] who already have a charge for ``month``."""
    return set(
        Charge.objects.filter(billing_month=month, customer_id__gte=first_id, customer_id__lte=last_id)
        .values_list("customer_id", flat=True)
        .distinct()
    )


def _with_open_carne(month: dt.date, first_id: int, last_id: int) -> set[int]:
    """Customers in [first_id, last_id] whose carnê still bills ``month`` or a later one."""
    return set(
        Charge.objects.filter(
            Q(billing_month__gte=month) | Q(billing_month__isnull=True, due_date__gte=month),
            carne__isnull=False,
            state__in=OPEN_INSTALLMENT_STATES,
            customer_id__gte=first_id,
            customer_id__lte=last_id,
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )


def _skip(result: BillingRunResult, account_id: int, reason: str, customer_id: int) -> None:
    result.tally(account_id).skipped += 1
    result.reasons[reason] += 1
    if len(result.skipped_customers) < SKIPPED_LIST_LIMIT:
        result.skipped_customers.append((customer_id, reason))


def _not_due_yet(due: dt.date, due_until: dt.date | None) -> bool:
    return due_until is not None and due > due_until


class _Rows:
    """Plain multi-row INSERTs for one model: the values prepared once per column, not per object.

    ``bulk_create`` spends most of its time preparing every value of every model instance; here the
    constant columns (defaults, timestamps, the month) are prepared once and each row only supplies
    the few values that vary. ``ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite) leaves a row that
    breaks a unique constraint out, exactly as ``bulk_create(ignore_conflicts=True)`` would.
    """

    def __init__(
        self, model: type[models.Model], *, varying: Sequence[str], constants: dict[str, object]
    ) -> None:
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.varying = {f.attname: f for f in self.fields if f.attname in varying}
        self.constants: dict[str, object] = {}
        for f in self.fields:
            if f.attname in self.varying:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.constants[f.attname] = now
            else:
                value = constants[f.attname] if f.attname in constants else f.get_default()
                self.constants[f.attname] = f.get_db_prep_save(value, connection)
        columns = ", ".join(ops.quote_name(f.column or f.name) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        table = ops.quote_name(model._meta.db_table)
        # Names come from the model, every value is a parameter.
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608

    def row(self, **values: object) -> tuple[object, ...]:
        return tuple(
            self.varying[f.attname].get_db_prep_save(values[f.attname], connection)
            if f.attname in self.varying
            else self.constants[f.attname]
            for f in self.fields
        )

    def insert(self, rows: list[tuple[object, ...]], *, ignore_conflicts: bool = False) -> None:
        if not rows:
            return
        sql = self.sql + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
        with connection.cursor() as cursor:
            cursor.executemany(sql, cast(Sequence[Any], rows))


def _titulos_batch(
    result: BillingRunResult, batch: list[tuple], ufs: dict[int, str], first_day: dt.date
) -> None:
    month = result.month
    billed = _billed(month, batch[0][0], batch[-1][0])
    new: list[tuple[str, int, int, Decimal, dt.date]] = []
    for customer_id, account_id, amount, due_day in batch:
        due = _due(month.year, month.month, due_day, ufs.get(account_id, ""))
        if _not_due_yet(due, result.due_until):
            continue
        if customer_id in billed:
            _skip(result, account_id, ALREADY_BILLED, customer_id)
            continue
        if not amount or Decimal(amount) <= 0:
            _skip(result, account_id, NO_AMOUNT, customer_id)
            continue
        if due < first_day:
            _skip(result, account_id, DUE_DATE_PASSED, customer_id)
            continue
        new.append((charges.new_reference("T"), customer_id, account_id, amount, due))
    if result.dry_run:
        for _reference, _customer, account_id, amount, _due_date in new:
            result.tally(account_id).created += 1
            result.tally(account_id).amount += Decimal(amount)
        return
    charge_rows = _Rows(
        Charge,
        varying=("reference", "customer_id", "bank_account_id", "amount", "due_date"),
        constants={
            "description": default_description(month),
            "billing_month": month,
            "month_claim": month,
            "state": S.PENDING,
        },
    )
    event_rows = _Rows(
        ChargeEvent,
        varying=("charge_id",),
        constants={
            "from_state": "",
            "to_state": S.PENDING,
            "actor_label": ACTOR_LABEL,
            "reason": _("Created"),
        },
    )
    with transaction.atomic():
        charge_rows.insert(
            [
                charge_rows.row(reference=r, customer_id=c, bank_account_id=a, amount=m, due_date=d)
                for r, c, a, m, d in new
            ],
            ignore_conflicts=True,
        )
        # Conflicting rows were left out: read back the ones really inserted.
        created = list(
            Charge.objects.filter(reference__in=[r for r, *_rest in new]).values_list(
                "pk", "bank_account_id", "reference"
            )
        )
        event_rows.insert([event_rows.row(charge_id=pk) for pk, _account, _reference in created])
    amounts = {r: Decimal(m) for r, _c, _a, m, _d in new}
    for pk, account_id, reference in created:
        result.tally(account_id).created += 1
        result.tally(account_id).amount += amounts[reference]
        result.to_issue.append((account_id, pk))
    lost_accounts = Counter(a for _r, _c, a, _m, _d in new) - Counter(a for _pk, a, _r in created)
    for account_id, n in lost_accounts.items():  # a concurrent run billed them first
        result.tally(account_id).skipped += n
        result.reasons[ALREADY_BILLED] += n


def _carnes_batch(
    result: BillingRunResult, batch: list[tuple], ufs: dict[int, str], first_day: dt.date
) -> None:
    month = result.month
    first_id, last_id = batch[0][0], batch[-1][0]
    billed = _billed(month, first_id, last_id)
    open_carne = _with_open_carne(month, first_id, last_id)
    todo = []
    for customer_id, account_id, amount, due_day in batch:
        due = _due(month.year, month.month, due_day, ufs.get(account_id, ""))
        if _not_due_yet(due, result.due_until):
            continue
        if customer_id in billed or customer_id in open_carne:
            reason = OPEN_CARNE if customer_id in open_carne else ALREADY_BILLED
            _skip(result, account_id, reason, customer_id)
            continue
        if not amount or Decimal(amount) <= 0:
            _skip(result, account_id, NO_AMOUNT, customer_id)
            continue
        if due < first_day:
            _skip(result, account_id, DUE_DATE_PASSED, customer_id)
            continue
        todo.append((customer_id, account_id, due, Decimal(amount)))
    if result.dry_run:
        for _customer, account_id, _due_date, amount in todo:
            result.tally(account_id).created += CARNE_INSTALLMENTS
            result.tally(account_id).amount += amount * CARNE_INSTALLMENTS
        return
    customers = Customer.objects.select_related("bank_account").in_bulk([c for c, _a, _d, _m in todo])
    last_month = add_months(month, CARNE_INSTALLMENTS - 1)
    for customer_id, account_id, due, amount in todo:
        customer = customers[customer_id]
        description = default_carne_description(
            gateway=customer.bank_account.gateway, first_month=month, last_month=last_month
        )
        try:
            with transaction.atomic():
                carne = charges.carne_create(
                    customer=customer,
                    installments=CARNE_INSTALLMENTS,
                    amount=customer.plan_amount,
                    first_due_date=due,
                    description=description,
                    first_billing_month=month,
                    enqueue=False,
                )
        except (IntegrityError, ApplicationError) as exc:
            message = getattr(exc, "message", None) or _("a charge already claims one of these months")
            result.tally(account_id).failed += 1
            result.errors.append(f"{customer.name} (#{customer_id}): {message}")
            continue
        first = min(carne.installment_charges.values_list("pk", flat=True))
        result.tally(account_id).created += CARNE_INSTALLMENTS
        result.tally(account_id).amount += amount * CARNE_INSTALLMENTS
        result.to_issue.append((account_id, first))


def billing_run_generate(
    *,
    month: dt.date,
    account_id: int | None = None,
    dry_run: bool = False,
    due_until: dt.date | None = None,
    progress: Progress | None = None,
) -> BillingRunResult:
    """Create (or, with ``dry_run``, count) the month's charges; nothing is sent to a gateway."""
    month = month.replace(day=1)
    result = BillingRunResult(month=month, dry_run=dry_run, due_until=due_until)
    accounts = BankAccount.objects.all()
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    ufs: dict[int, str] = {}
    for pk, name, uf in accounts.values_list("pk", "name", "state"):
        result.account_names[pk] = name
        ufs[pk] = uf
    first_day = today()
    for billing_type, handle in ((BillingType.TITULO, _titulos_batch), (BillingType.CARNE, _carnes_batch)):
        for batch in _batches(_customers(billing_type, account_id, month, due_until), BATCH_SIZE):
            handle(result, batch, ufs, first_day)
            if progress:
                progress(len(batch))
    return result


def count_customers(*, account_id: int | None = None) -> int:
    rows = Customer.objects.filter(status__in=BILLED_STATUSES)
    if account_id is not None:
        rows = rows.filter(bank_account_id=account_id)
    return rows.count()


def billing_run_dispatch(
    result: BillingRunResult, *, sync: bool = False, threads: int = 8, progress: Progress | None = None
) -> None:
    """Queue one issue task per título and per carnê, or (``sync``) issue them here.

    Each task leaves once the caller's transaction (if any) commits; the command runs in
    autocommit, so a broker that refuses the message is counted as ``failed`` here and the charge
    stays ``pending`` for the sweep.
    """
    if result.dry_run:
        return
    if sync:
        outcomes = sweep.run_dispatch(
            [(sweep.ISSUE, pk) for _a, pk in result.to_issue],
            _issue_reporting(result),
            threads=threads,
            progress=progress,
        )
        logger.info("billing run %s issued in-process: %s", result.month, dict(outcomes))
        return
    for account_id, pk in result.to_issue:
        try:
            enqueue(ISSUE_CHARGE, pk)
        except Exception as exc:  # broker down: the charge stays pending for the sweep
            logger.warning("billing run: could not queue charge %s: %s", pk, exc)
            result.tally(account_id).failed += 1
        else:
            result.tally(account_id).queued += 1
        if progress:
            progress(1)


def _issue_reporting(result: BillingRunResult) -> sweep.Dispatch:
    accounts = {pk: account_id for account_id, pk in result.to_issue}
    lock = threading.Lock()

    def issue(kind: str, charge_id: int) -> str:
        outcome = sweep.inline_dispatch(kind, charge_id)
        with lock:
            tally = result.tally(accounts[charge_id])
            if outcome == S.ISSUED:
                tally.queued += 1
            else:
                tally.failed += 1
                result.errors.append(_("charge #%(id)s: %(outcome)s") % {"id": charge_id, "outcome": outcome})
        return outcome

    return issue
