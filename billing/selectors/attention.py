"""Charges that need staff: one definition for the admin's filter, the dashboard and the sweep.

A charge needs attention when no process of ours will move it on by itself:

- ``failed``: the gateway refused it; staff fix the data and retry;
- ``issuing`` for longer than :data:`ISSUING_STALE_AFTER`: its worker most likely died and the
  sweep (which turns such charges into ``unknown`` and looks them up) has not run since;
- ``unknown``: the gateway's answer was lost. At a gateway that can be asked (Juno, Asaas) the
  sweep looks it up, and until it does staff see it; at a gateway with no look-up (Mycontas) the
  charge waits for the gateway's return POST, so it is counted only once it has waited longer than
  ``MYCONTAS_UNKNOWN_ATTENTION_MINUTES``. An unknown charge whose look-up could not prove it
  absent stays unknown (and counted) until staff adopt a candidate or confirm it absent;
- marked by a service for a reason its state does not show (``Charge.attention``): the gateway
  refused its cancel (the boleto may still be payable there), or it went back to ``pending``
  ``GATEWAY_UNREACHABLE_ATTEMPTS`` times without reaching its gateway;
- ``issued`` at a gateway with no look-up (Mycontas) but still without its number or link longer
  than ``MYCONTAS_UNKNOWN_ATTENTION_MINUTES``: the return POST that brings them did not come (the
  portal tells the subscriber the boleto is being prepared meanwhile).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.models import Charge, ChargeState
from providers.models import BankAccount, Gateway

#: A charge still ``issuing`` after this long most likely lost its worker.
ISSUING_STALE_AFTER = dt.timedelta(minutes=15)
#: Gateways that cannot say whether a charge exists: an ``unknown`` charge there is never re-sent.
NO_LOOKUP_GATEWAYS = (Gateway.MYCONTAS,)


def no_lookup_accounts() -> QuerySet:
    """The ids of the accounts at a gateway with no look-up (a subquery, not a list)."""
    return BankAccount.objects.filter(gateway__in=NO_LOOKUP_GATEWAYS).values("pk")


def needs_attention(*, now: dt.datetime | None = None) -> Q:
    """The condition on ``Charge`` rows; see the module's docstring for why each case is there."""
    now = now or timezone.now()
    waiting_for_return = Q(
        bank_account_id__in=no_lookup_accounts(),
        state_changed_at__gte=now - dt.timedelta(minutes=settings.MYCONTAS_UNKNOWN_ATTENTION_MINUTES),
    )
    waited = now - dt.timedelta(minutes=settings.MYCONTAS_UNKNOWN_ATTENTION_MINUTES)
    still_being_prepared = Q(
        state=ChargeState.ISSUED, bank_account_id__in=no_lookup_accounts(), state_changed_at__lt=waited
    ) & (Q(gateway_code="") | Q(link=""))
    return (
        Q(state=ChargeState.FAILED)
        | Q(state=ChargeState.ISSUING, state_changed_at__lt=now - ISSUING_STALE_AFTER)
        | (Q(state=ChargeState.UNKNOWN) & ~waiting_for_return)
        | ~Q(attention="")
        | still_being_prepared
    )


def charges_needing_attention(*, now: dt.datetime | None = None) -> QuerySet[Charge]:
    return Charge.objects.filter(needs_attention(now=now))
