"""Billing runs started from the admin ("Gerar cobranças"): the preview, the run in a task, its record.

The preview is the billing run in dry-run mode (nothing written) with the skipped customers named.
The run itself is a :class:`~billing.models.BillingRun` row that a task executes, writing its
progress on the row as it goes, so the page can show it and the row stays as the run's audit record
(who, when, month, account, outcome). Both share billing.services.billing_run with
``manage.py billing_run`` and the daily cycle.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingRun, BillingRunState
from billing.services import billing_run
from core.errors import ApplicationError
from core.queue import enqueue
from customers.models import Customer

logger = logging.getLogger(__name__)

BILLING_RUN_TASK = "billing.billing_run"
#: Errors kept on the run's row (the counts cover them all).
ERRORS_KEPT = 50


@dataclass(frozen=True)
class SkippedCustomer:
    id: int
    name: str
    reason: str


@dataclass(frozen=True)
class Preview:
    result: billing_run.BillingRunResult
    skipped: list[SkippedCustomer]

    @property
    def created(self) -> int:
        return self.result.total("created")

    @property
    def amount(self) -> Decimal:
        return self.result.total_amount()


def billing_run_preview(*, month: dt.date, account_id: int | None = None) -> Preview:
    """What a run would create, its total, and who would be skipped and why; writes nothing."""
    result = billing_run.billing_run_generate(month=month, account_id=account_id, dry_run=True)
    names = Customer.objects.in_bulk([pk for pk, _reason in result.skipped_customers])
    skipped = [
        SkippedCustomer(pk, names[pk].name if pk in names else f"#{pk}", _(reason))
        for pk, reason in result.skipped_customers
    ]
    return Preview(result=result, skipped=skipped)


def billing_run_request(
    *, month: dt.date, account_id: int | None = None, actor: AbstractBaseUser | None = None
) -> BillingRun:
    """Record a run and hand it to the task once this commits."""
    month = month.replace(day=1)
    if month < timezone.localdate().replace(day=1):
        raise ApplicationError(_("A past month cannot be billed."))
    with transaction.atomic():
        run = BillingRun.objects.create(
            month=month,
            bank_account_id=account_id,
            requested_by=actor if isinstance(actor, User) and actor.is_authenticated else None,
            customers_total=billing_run.count_customers(account_id=account_id),
        )
        enqueue(BILLING_RUN_TASK, run.pk)
    return run


def billing_run_execute(*, run_id: int) -> BillingRun:
    """Run a queued :class:`BillingRun` (the task): generate, queue the issues, record the outcome.

    Claimed with a conditional UPDATE, so a message delivered twice runs it once.
    """
    claimed = BillingRun.objects.filter(pk=run_id, state=BillingRunState.QUEUED).update(
        state=BillingRunState.RUNNING, started_at=timezone.now()
    )
    run = BillingRun.objects.get(pk=run_id)
    if not claimed:
        return run
    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        BillingRun.objects.filter(pk=run_id).update(customers_done=min(done, run.customers_total))

    try:
        result = billing_run.billing_run_generate(
            month=run.month, account_id=run.bank_account_id, progress=progress
        )
        billing_run.billing_run_dispatch(result)
    except Exception as exc:
        logger.exception("billing run %s failed", run_id)
        BillingRun.objects.filter(pk=run_id).update(
            state=BillingRunState.FAILED, finished_at=timezone.now(), errors=[f"{type(exc).__name__}: {exc}"]
        )
        raise
    BillingRun.objects.filter(pk=run_id).update(
        state=BillingRunState.DONE,
        finished_at=timezone.now(),
        customers_done=run.customers_total,
        created=result.total("created"),
        amount=result.total_amount(),
        skipped=result.total("skipped"),
        queued=result.total("queued"),
        failed=result.total("failed"),
        reasons=dict(result.reasons),
        errors=result.errors[:ERRORS_KEPT],
    )
    run.refresh_from_db()
    return run
