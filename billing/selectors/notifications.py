"""Reads about notifications: the intake's account look-up, and what staff must see on the admin index."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Charge, ChargeState, Notification, NotificationStatus, ReconciliationRun
from providers.models import SECRET_FIELDS, BankAccount, Gateway

#: Received but not verified yet: what the waiting cap counts.
WAITING_STATUSES = (NotificationStatus.RECEIVED, NotificationStatus.QUEUED, NotificationStatus.RETRYING)


def _waiting_sql(account_condition: str) -> str:
    """Counts at most ``%s`` waiting rows (the cap + 1): the cost stays flat however long the queue."""
    table = Notification._meta.db_table
    # The table and column come from the models; every value is a parameter.
    return (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} w WHERE w.bank_account_id {account_condition} "  # noqa: S608
        "AND w.gateway = %s AND w.status IN (%s, %s, %s) LIMIT %s) AS waiting"
    )


def account_with_waiting(
    gateway: str, public_id: str, *, cap: int, with_secrets: bool = True
) -> BankAccount | None:
    """The account a notification URL names, with ``waiting``: its notifications received and not
    yet verified, counted up to ``cap`` + 1. One statement (the notification intake's hot path).

    Without ``with_secrets`` the encrypted fields are left out (deferred): decrypting them costs
    about as much as the statement itself, and only an intake that checks a shared secret needs one.
    """
    if gateway not in Gateway.values or "\x00" in public_id:
        return None
    accounts = BankAccount.objects.filter(gateway=gateway, public_id=public_id)
    if not with_secrets:
        accounts = accounts.defer(*SECRET_FIELDS)
    if cap <= 0:  # no cap: nothing to count
        return accounts.annotate(waiting=Value(0)).first()
    waiting = RawSQL(  # noqa: S611 - built from the models' names; every value is a parameter
        _waiting_sql(f"= {BankAccount._meta.db_table}.id"), (gateway, *WAITING_STATUSES, cap + 1)
    )
    return accounts.annotate(waiting=waiting).first()


def unaddressed_waiting(gateway: str, *, cap: int) -> int:
    """Like :func:`account_with_waiting` for notifications that arrived without an account."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_waiting_sql("IS NULL"), (gateway, *WAITING_STATUSES, cap + 1))
        return int(cursor.fetchone()[0])


#: How far back "usually receives notifications" looks, and how many make "usually".
USUAL_WINDOW = dt.timedelta(days=30)
USUAL_MINIMUM = 3
#: Reconciliation repairs and late payments stay on the index this long.
RECENT = dt.timedelta(days=2)
PAID_AFTER_CANCEL_WINDOW = dt.timedelta(days=30)


def silent_accounts(*, now: dt.datetime | None = None) -> list[tuple[BankAccount, dt.datetime]]:
    """Active Juno accounts that usually receive notifications but got none lately.

    "Lately" is ``NOTIFICATION_SILENCE_HOURS``; "usually" is at least a few notifications in the 30
    days before that. Two indexed look-ups per account (accounts are few).
    """
    now = now or timezone.now()
    silence_start = now - dt.timedelta(hours=settings.NOTIFICATION_SILENCE_HOURS)
    found = []
    for account in BankAccount.objects.filter(gateway=Gateway.JUNO, active=True).order_by("name", "pk"):
        received = Notification.objects.filter(bank_account=account)
        if received.filter(received_at__gte=silence_start).exists():
            continue
        usual = received.filter(received_at__lt=silence_start, received_at__gte=silence_start - USUAL_WINDOW)
        recent = list(usual.order_by("-received_at").values_list("received_at", flat=True)[:USUAL_MINIMUM])
        if len(recent) >= USUAL_MINIMUM:
            found.append((account, recent[0]))
    return found


def _when(moment: dt.datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def admin_warnings(*, now: dt.datetime | None = None) -> list[str]:
    """Sentences for the admin index: silent accounts, recent reconciliation repairs and failures,
    payments after a cancel, notifications that could not be applied, were rejected or turned away."""
    now = now or timezone.now()
    warnings = [
        _(
            "%(account)s has received no payment notification for %(hours)d hours (the last at %(last)s): "
            "check the notification URL in the gateway's panel."
        )
        % {"account": account.name, "hours": settings.NOTIFICATION_SILENCE_HOURS, "last": _when(last)}
        for account, last in silent_accounts(now=now)
    ]
    runs = ReconciliationRun.objects.filter(started_at__gte=now - RECENT).select_related("bank_account")
    for run in runs.exclude(repaired=0, error="").order_by("-started_at")[:10]:
        if run.error:
            warnings.append(
                _("The reconciliation of %(account)s at %(when)s failed: %(error)s")
                % {"account": run.bank_account.name, "when": _when(run.started_at), "error": run.error}
            )
        else:
            warnings.append(
                ngettext(
                    "The reconciliation of %(account)s at %(when)s recorded %(count)d payment "
                    "whose notification never arrived.",
                    "The reconciliation of %(account)s at %(when)s recorded %(count)d payments "
                    "whose notifications never arrived.",
                    run.repaired,
                )
                % {"account": run.bank_account.name, "when": _when(run.started_at), "count": run.repaired}
            )
    paid_after_cancel = Charge.objects.filter(  # served by the (state, state_changed_at) index
        state__in=(ChargeState.PAID, ChargeState.REFUNDED),
        state_changed_at__gte=now - PAID_AFTER_CANCEL_WINDOW,
        paid_after_cancel=True,
    ).count()
    if paid_after_cancel:
        warnings.append(
            ngettext(
                "%(count)d charge was paid after its cancel in the last 30 days: the money is kept.",
                "%(count)d charges were paid after their cancel in the last 30 days: the money is kept.",
                paid_after_cancel,
            )
            % {"count": paid_after_cancel}
        )
    recent = Notification.objects.filter(received_at__gte=now - RECENT)
    by_status = dict(
        recent.filter(
            status__in=(NotificationStatus.FAILED, NotificationStatus.REJECTED, NotificationStatus.OVERFLOW)
        )
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    failed = by_status.get(NotificationStatus.FAILED, 0)
    if failed:
        warnings.append(
            ngettext(
                "%(count)d notification in the last two days could not be applied: see Notifications.",
                "%(count)d notifications in the last two days could not be applied: see Notifications.",
                failed,
            )
            % {"count": failed}
        )
    rejected = by_status.get(NotificationStatus.REJECTED, 0)
    if rejected:
        warnings.append(
            ngettext(
                "%(count)d notification in the last two days was rejected (a payment the gateway does not "
                "know, an unknown account or wrong credentials: possibly forged); nothing was applied.",
                "%(count)d notifications in the last two days were rejected (payments the gateway does not "
                "know, unknown accounts or wrong credentials: possibly forged); nothing was applied.",
                rejected,
            )
            % {"count": rejected}
        )
    overflow = by_status.get(NotificationStatus.OVERFLOW, 0)
    if overflow:
        warnings.append(
            ngettext(
                "%(count)d notification in the last two days arrived while too many waited for "
                'verification and was answered "send it again later".',
                "%(count)d notifications in the last two days arrived while too many waited for "
                'verification and were answered "send it again later".',
                overflow,
            )
            % {"count": overflow}
        )
    return warnings
