"""The sweep: the safety net that finishes whatever the tasks could not.

One run, under the database lease ``sweep`` (never two at once, on any number of machines):

1. charges stuck in ``issuing`` longer than the gateway timeouts (a worker died mid-call) become
   ``unknown`` (:func:`~billing.services.charges.charges_expire_issuing`);
2. every ``pending`` charge is issued, every ``unknown`` one resolved (``charge_issue`` looks it up
   before anything is re-sent) and every ``cancel_requested`` one cancelled at the gateway.
   ``unknown`` charges of gateways with no look-up (Mycontas) are never re-sent: they wait for the
   gateway's return POST (after ``MYCONTAS_UNKNOWN_ATTENTION_MINUTES`` staff see them);
   the run ends by counting the charges that *need attention*
   (:mod:`billing.selectors.attention`, the same definition as the admin's filter);
3. notifications not processed yet are retried
   (:func:`~billing.services.notifications.notifications_retry_pending`).

Rows are claimed in batches with ``select_for_update(skip_locked=True)`` where the database has it
(PostgreSQL): a row a worker is changing right now is skipped, not waited for. Each claimed charge
is handed to a *dispatch*: :func:`enqueue_dispatch` queues one task per charge (the Celery task, so
every worker shares the run), :func:`inline_dispatch` calls the service here (the management
command). Either way the services re-check the state under a row lock, so a charge handed over
twice is still sent once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import Attention, Charge, ChargeState
from billing.selectors.attention import charges_needing_attention, no_lookup_accounts
from billing.services import charges, leases
from billing.services.notifications import notifications_retry_pending
from core.queue import CANCEL_CHARGE, ISSUE_CHARGE, enqueue
from gateways.base import GatewayUnavailable

logger = logging.getLogger(__name__)
S = ChargeState

ISSUE = "issue"
CANCEL = "cancel"
BATCH_SIZE = 500

#: A dispatch takes (what to do, charge id) and returns an outcome label for the summary.
Dispatch = Callable[[str, int], str]
Progress = Callable[[int], None]


@dataclass
class SweepResult:
    expired: int = 0  # issuing → unknown
    written_off: int = 0  # issued, unpaid past due date + the account's days to write off
    handed: Counter[str] = field(default_factory=Counter)  # pending/unknown/cancel_requested taken
    outcomes: Counter[str] = field(default_factory=Counter)  # what each dispatch returned
    needs_attention: int = 0  # charges left for staff (billing.selectors.attention)
    notifications: int = 0  # notifications retried

    @property
    def problems(self) -> int:
        """Charges that did not get through: transport errors, crashes and rejections."""
        return sum(self.outcomes[k] for k in ("deferred", "error", S.FAILED))

    def as_dict(self) -> dict[str, int]:
        data = {
            "expired": self.expired,
            "written_off": self.written_off,
            "needs_attention": self.needs_attention,
        }
        data.update({f"handed_{k}": v for k, v in sorted(self.handed.items())})
        data.update({f"outcome_{k}": v for k, v in sorted(self.outcomes.items())})
        data["notifications"] = self.notifications
        return data


# --- dispatches ------------------------------------------------------------------------------------
def enqueue_dispatch(kind: str, charge_id: int) -> str:
    """Queue the task (after commit, like every staff action)."""
    enqueue(CANCEL_CHARGE if kind == CANCEL else ISSUE_CHARGE, charge_id)
    return "queued"


def inline_dispatch(kind: str, charge_id: int) -> str:
    """Call the service here and now; report the state reached, ``deferred`` or ``error``."""
    try:
        if kind == CANCEL:
            return charges.charge_cancel_at_gateway(charge_id=charge_id, actor_label="sweep").state
        return charges.charge_issue(charge_id=charge_id, actor_label="sweep").state
    except GatewayUnavailable as exc:
        logger.warning("sweep: charge %s deferred: %s", charge_id, exc.message)
        return "deferred"
    except Exception:
        logger.exception("sweep: charge %s failed", charge_id)
        return "error"


def run_dispatch(
    work: Sequence[tuple[str, int]],
    dispatch: Dispatch,
    *,
    threads: int = 1,
    progress: Progress | None = None,
) -> Counter[str]:
    """Dispatch every (kind, charge id); with ``threads`` > 1 in a pool (one DB connection each)."""
    outcomes: Counter[str] = Counter()
    if threads <= 1:
        for kind, charge_id in work:
            outcomes[dispatch(kind, charge_id)] += 1
            if progress:
                progress(1)
        return outcomes

    def one(item: tuple[str, int]) -> str:
        try:
            return dispatch(*item)
        finally:
            close_old_connections()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sweep") as pool:
        for outcome in pool.map(one, work):
            outcomes[outcome] += 1
            if progress:
                progress(1)
    return outcomes


# --- what the sweep takes --------------------------------------------------------------------------
def _no_lookup_account_ids() -> list[int]:
    """Accounts whose gateway cannot say whether a charge exists (Mycontas)."""
    return list(no_lookup_accounts().values_list("pk", flat=True))


def _work_filter(*, min_age: dt.timedelta, no_lookup: Iterable[int]) -> Q:
    cutoff = timezone.now() - min_age
    fresh_enough = Q(state__in=[S.PENDING, S.CANCEL_REQUESTED], state_changed_at__lt=cutoff) & ~Q(
        attention=Attention.CANCEL_REFUSED  # the gateway said no: staff decide, nothing is resent
    )
    lookups = Q(state=S.UNKNOWN) & ~Q(bank_account_id__in=list(no_lookup))
    return fresh_enough | lookups


def _claim_batch(work: Q, *, after_id: int, limit: int) -> list[tuple[int, str, int | None]]:
    """The next rows to hand over, skipping those a worker holds locked right now."""
    with transaction.atomic():
        rows = Charge.objects.filter(work, pk__gt=after_id).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        return list(rows.values_list("pk", "state", "carne_id")[:limit])


def count_work(*, min_age: dt.timedelta | None = None) -> int:
    """How many charges a sweep would hand over now (for a progress bar's total).

    Includes the charges stuck in ``issuing`` that the run first turns ``unknown`` and then looks
    up, so that the bar's total is what the run will report.
    """
    no_lookup = _no_lookup_account_ids()
    stuck = Q(state=S.ISSUING, state_changed_at__lt=timezone.now() - issuing_timeout()) & ~Q(
        bank_account_id__in=no_lookup
    )
    return Charge.objects.filter(_work_filter(min_age=_min_age(min_age), no_lookup=no_lookup) | stuck).count()


def _min_age(min_age: dt.timedelta | None) -> dt.timedelta:
    return dt.timedelta(seconds=settings.SWEEP_MIN_AGE_SECONDS) if min_age is None else min_age


def issuing_timeout() -> dt.timedelta:
    """Longer than any gateway call can take: after it, an ``issuing`` charge was abandoned."""
    seconds = settings.GATEWAY_CONNECT_TIMEOUT + settings.GATEWAY_READ_TIMEOUT
    return dt.timedelta(seconds=seconds + settings.SWEEP_ISSUING_MARGIN_SECONDS)


def needs_attention_count() -> int:
    """Charges left for staff after this run (the admin's "needs attention" filter lists them)."""
    return charges_needing_attention().count()


# --- the run ---------------------------------------------------------------------------------------
def _sweep(
    *,
    holder: str,
    dispatch: Dispatch,
    min_age: dt.timedelta,
    threads: int,
    progress: Progress | None,
) -> SweepResult:
    result = SweepResult()
    result.expired = charges.charges_expire_issuing(older_than=issuing_timeout())
    result.written_off = charges.charges_write_off()
    work = _work_filter(min_age=min_age, no_lookup=_no_lookup_account_ids())
    ttl = dt.timedelta(seconds=settings.SWEEP_LEASE_SECONDS)
    seen_carnes: set[int] = set()
    after_id = 0
    while batch := _claim_batch(work, after_id=after_id, limit=BATCH_SIZE):
        after_id = batch[-1][0]
        todo: list[tuple[str, int]] = []
        for charge_id, state, carne_id in batch:
            result.handed[state] += 1
            if state != S.CANCEL_REQUESTED and carne_id is not None:
                if carne_id in seen_carnes:  # one issue per carnê: the service sends them together
                    if progress:
                        progress(1)
                    continue
                seen_carnes.add(carne_id)
            todo.append((CANCEL if state == S.CANCEL_REQUESTED else ISSUE, charge_id))
        result.outcomes.update(run_dispatch(todo, dispatch, threads=threads, progress=progress))
        if not leases.lease_heartbeat(leases.SWEEP, holder=holder, ttl=ttl):
            logger.warning("sweep: lease lost (took longer than %s); stopping", ttl)
            break
    result.needs_attention = needs_attention_count()
    result.notifications = notifications_retry_pending()
    return result


def sweep_run(
    *,
    dispatch: Dispatch = enqueue_dispatch,
    min_age: dt.timedelta | None = None,
    threads: int = 1,
    progress: Progress | None = None,
) -> SweepResult | None:
    """One sweep under the ``sweep`` lease; None when another sweep holds it (nothing done)."""
    ttl = dt.timedelta(seconds=settings.SWEEP_LEASE_SECONDS)
    try:
        with leases.lease(leases.SWEEP, ttl=ttl) as holder:
            result = _sweep(
                holder=holder,
                dispatch=dispatch,
                min_age=_min_age(min_age),
                threads=threads,
                progress=progress,
            )
    except leases.LeaseHeld:
        logger.info("sweep: another sweep is running; nothing to do")
        return None
    logger.info("sweep finished: %s", result.as_dict())
    return result
