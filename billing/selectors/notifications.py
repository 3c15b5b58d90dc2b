"""Reads about notifications and reconciliation that staff must see: the admin index's warnings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Charge, ChargeState, Notification, NotificationStatus, ReconciliationRun
from providers.models import BankAccount, Gateway

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
    payments after a cancel, notifications that could not be processed."""
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
    failed = Notification.objects.filter(
        status=NotificationStatus.FAILED, received_at__gte=now - RECENT
    ).count()
    if failed:
        warnings.append(
            ngettext(
                "%(count)d notification in the last two days could not be applied: see Notifications.",
                "%(count)d notifications in the last two days could not be applied: see Notifications.",
                failed,
            )
            % {"count": failed}
        )
    return warnings
