"""The second copy (*segunda via*): a new boleto for the amount due today, replacing an overdue one.

The new charge is created (and sent to the gateway) first; the old boleto is cancelled at the
gateway only once the new one is issued (``charges._cancel_replaced``), so the subscriber is never
left without a boleto to pay. The two are linked (``Charge.replaces``) and each history says so.
The old charge hands its billing month to the new one in the same transaction: the month is still
billed once, and the one-charge-per-customer-and-month constraint keeps holding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.models import Charge, ChargeEvent, ChargeState
from billing.services.amounts import charge_amount_due, is_overdue
from billing.services.charges import new_reference
from billing.services.dates import next_business_day
from billing.services.descriptions import printed_lines, rules_for
from billing.services.payments import lock_charge
from billing.services.transitions import recorded_user
from core import queue
from core.errors import ApplicationError
from providers.models import Provider

S = ChargeState

#: Days until the second copy is due, when the provider sets none.
DEFAULT_SECOND_COPY_DAYS = 3
#: Only a boleto still open (not paid, not cancelled) is replaced.
REPLACEABLE_STATES = frozenset({S.ISSUED})
#: A replacement in one of these states is still on its way or payable: no third copy meanwhile.
LIVE_STATES = frozenset({S.PENDING, S.ISSUING, S.UNKNOWN, S.ISSUED})
#: Subscribers may ask for at most this many second copies of one charge a day.
SUBSCRIBER_DAILY_LIMIT = 1


@dataclass(frozen=True)
class SecondCopyQuote:
    """What a second copy of ``charge`` would be today."""

    charge: Charge
    amount: Decimal
    due_date: dt.date


def second_copy_days(provider: Provider | None) -> int:
    return provider.second_copy_days if provider and provider.second_copy_days else DEFAULT_SECOND_COPY_DAYS


def quote(charge: Charge, *, today: dt.date, provider: Provider | None) -> SecondCopyQuote:
    """Amount due today (fine once, interest to today) and the new due date (a business day)."""
    due = next_business_day(today + dt.timedelta(days=second_copy_days(provider)), charge.bank_account.state)
    return SecondCopyQuote(charge=charge, amount=charge_amount_due(charge, on=today), due_date=due)


def refusal(charge: Charge, *, today: dt.date, by_subscriber: bool = False) -> str:
    """Why ``charge`` cannot get a second copy now ("" when it can)."""
    if charge.state not in REPLACEABLE_STATES:
        return _("Only an open boleto can get a second copy; %(reference)s is %(state)s.") % {
            "reference": charge.reference,
            "state": charge.get_state_display(),
        }
    if not is_overdue(charge, on=today):
        return _("The boleto is not overdue: pay it as it is, until %(date)s.") % {
            "date": charge.due_date.strftime("%d/%m/%Y")
        }
    live = charge.replacements.filter(state__in=LIVE_STATES).first()
    if live is not None:
        return _("A second copy (%(reference)s) was already issued for this boleto.") % {
            "reference": live.reference
        }
    if by_subscriber:
        start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
        if charge.replacements.filter(created_at__gte=start).count() >= SUBSCRIBER_DAILY_LIMIT:
            return _("A second copy of this boleto was already requested today; try again tomorrow.")
    return ""


def _description(charge: Charge) -> str:
    """The old boleto's lines as it printed them, then which boleto this copy replaces; within what
    the gateway prints, the old lines give way (the last ones first), never the reference."""
    gateway = charge.bank_account.gateway
    rules = rules_for(gateway)
    with translation.override("pt-br"):
        reference = _("Second copy of %(reference)s, due %(date)s") % {
            "reference": charge.reference,
            "date": charge.due_date.strftime("%d/%m/%Y"),
        }
    lines = list(
        printed_lines(
            charge.description,
            gateway=gateway,
            due_date=charge.due_date,
            installment=charge.installment_number or 1,
            issued_on=timezone.localdate(charge.created_at),
        )
    )
    if rules.max_lines is not None:
        lines = lines[: rules.max_lines - 1]
    if rules.max_line_chars is not None:
        lines = [line[: rules.max_line_chars] for line in lines]
        reference = reference[: rules.max_line_chars]
    while lines and rules.max_chars is not None and len("\n".join([*lines, reference])) > rules.max_chars:
        lines.pop()
    return "\n".join([*lines, reference])


def charge_second_copy(
    *,
    charge_id: int,
    today: dt.date,
    provider: Provider | None,
    actor: AbstractBaseUser | None = None,
    by_subscriber: bool = False,
    enqueue: bool = True,
) -> Charge:
    """Create the second copy of an overdue boleto and queue it for issuing; returns the new charge.

    Raises :class:`ApplicationError` with the reason when the charge cannot be replaced now.
    """
    with transaction.atomic():
        old = lock_charge(pk=charge_id)
        if old is None:
            raise Charge.DoesNotExist(charge_id)
        reason = refusal(old, today=today, by_subscriber=by_subscriber)
        if reason:
            raise ApplicationError(reason)
        offer = quote(old, today=today, provider=provider)
        # Both bill the same month; the claim on it (one per customer and month) moves to the copy,
        # released by the old charge first so that the constraint holds at every statement.
        claim = old.month_claim
        if claim is not None:
            old.month_claim = None
            old.save(update_fields=["month_claim", "updated_at"])
        new = Charge(
            reference=new_reference("T"),
            customer_id=old.customer_id,
            bank_account_id=old.bank_account_id,
            amount=offer.amount,
            due_date=offer.due_date,
            description=_description(old),
            billing_month=old.billing_month,
            month_claim=claim,
            replaces=old,
            created_by=recorded_user(actor),
        )
        new.full_clean(exclude=["customer", "bank_account", "created_by", "replaces"])
        new.save()
        who = _("the subscriber, on the portal") if by_subscriber else ""
        ChargeEvent.objects.create(
            charge=new,
            from_state="",
            to_state=new.state,
            actor=recorded_user(actor),
            actor_label="portal" if by_subscriber else "",
            reason=_("Created as the second copy of %(reference)s (amount due on %(today)s)%(who)s")
            % {
                "reference": old.reference,
                "today": today.strftime("%d/%m/%Y"),
                "who": f" — {who}" if who else "",
            },
        )
        ChargeEvent.objects.create(
            charge=old,
            from_state=old.state,
            to_state=old.state,
            actor=recorded_user(actor),
            actor_label="portal" if by_subscriber else "",
            reason=_(
                "Second copy %(reference)s requested: %(amount)s due %(date)s; this boleto is cancelled "
                "once it is issued"
            )
            % {
                "reference": new.reference,
                "amount": offer.amount,
                "date": offer.due_date.strftime("%d/%m/%Y"),
            },
        )
        if enqueue:
            queue.enqueue(queue.ISSUE_CHARGE, new.pk)
    return new
