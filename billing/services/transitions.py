"""The state machines of charges and carnês: the one place where their states change.

Callers hold the row lock (``select_for_update`` inside ``transaction.atomic``); this module checks
the move against :data:`ALLOWED` (:data:`CARNE_ALLOWED`), saves, and appends the history row in the
same transaction. A carnê whose last open installment is settled becomes ``finished`` here too.

Lock order: an installment's row before its carnê's (payments lock the charge they settle, then
this module locks the carnê; cancelling a carnê locks its installments before the carnê).
The change's effects beyond the charge (outbound event, service status) are in
billing.services.charge_effects.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Carne, CarneEvent, CarneState, Charge, ChargeEvent, ChargeState, Payment
from billing.services.charge_effects import after_transition
from core.errors import ApplicationError

S = ChargeState

ALLOWED: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.ISSUING, S.CANCELLED}),
    # issuing -> pending only when the request surely never left (connection refused).
    S.ISSUING: frozenset({S.ISSUED, S.FAILED, S.UNKNOWN, S.PENDING, S.PAID}),
    # unknown -> failed when staff confirm a Mycontas charge never registered.
    S.UNKNOWN: frozenset({S.ISSUED, S.PENDING, S.FAILED, S.PAID}),
    # issued -> cancelled when the gateway says it cancelled the boleto itself (reconciliation);
    # issued -> written_off once unpaid at due date + the account's days to write off.
    S.ISSUED: frozenset({S.CANCEL_REQUESTED, S.PAID, S.CANCELLED, S.WRITTEN_OFF}),
    S.FAILED: frozenset({S.PENDING, S.CANCELLED}),
    # cancel_requested -> issued when staff withdraw a cancel the gateway refused.
    S.CANCEL_REQUESTED: frozenset({S.CANCELLED, S.ISSUED, S.PAID}),
    # Money is never hidden: a payment after a cancel still marks the charge paid.
    S.CANCELLED: frozenset({S.PAID}),
    # paid -> issued / cancelled only when a superuser undoes a payment staff recorded by mistake.
    S.PAID: frozenset({S.REFUNDED, S.ISSUED, S.CANCELLED}),
    S.REFUNDED: frozenset(),
    # Written off here only: a payment that still arrives is recorded, and nothing brings it back
    # to issued (the portal stops offering it, the reconciliation leaves it).
    S.WRITTEN_OFF: frozenset({S.PAID}),
}

#: A carnê ends once: cancelled by staff, or finished when nothing is left to collect.
CARNE_ALLOWED: dict[str, frozenset[str]] = {
    CarneState.OPEN: frozenset({CarneState.CANCELLED, CarneState.FINISHED}),
    CarneState.CANCELLED: frozenset(),
    CarneState.FINISHED: frozenset(),
}
#: An installment in one of these states is settled: nothing is left to collect on it (a written-off
#: boleto can no longer be collected).
SETTLED_STATES = frozenset({S.PAID, S.REFUNDED, S.CANCELLED, S.WRITTEN_OFF})
#: Leaving a charge in one of these states frees its billing month for a new bill.
RELEASES_MONTH = frozenset({S.CANCELLED, S.REFUNDED, S.WRITTEN_OFF})


class IllegalTransition(ApplicationError):
    def __init__(self, charge: Charge, to_state: str) -> None:
        super().__init__(
            _("Charge %(reference)s cannot go from %(from)s to %(to)s.")
            % {
                "reference": charge.reference,
                "from": ChargeState(charge.state).label,
                "to": ChargeState(to_state).label,
            }
        )
        self.from_state = charge.state
        self.to_state = to_state


class IllegalCarneTransition(ApplicationError):
    def __init__(self, carne: Carne, to_state: str) -> None:
        super().__init__(
            _("Carnê %(reference)s cannot go from %(from)s to %(to)s.")
            % {
                "reference": carne.reference,
                "from": CarneState(carne.state).label,
                "to": CarneState(to_state).label,
            }
        )


def recorded_user(actor: AbstractBaseUser | None) -> User | None:
    """The user a row records as its actor: a signed-in user, else None (tasks, the API, anonymous)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def can_transition(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED.get(from_state, frozenset())


def transition(
    charge: Charge,
    to_state: str,
    *,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    reason: str = "",
    payment: Payment | None = None,
    **fields: Any,
) -> Charge:
    """Move ``charge`` (locked by the caller) to ``to_state``, set ``fields``, record the event.

    ``payment`` is the payment that moved it, when the caller has it at hand: the outbound
    ``charge.paid`` event carries it without reading it back.
    """
    if not can_transition(charge.state, to_state):
        raise IllegalTransition(charge, to_state)
    from_state = charge.state
    charge.state = to_state
    charge.state_changed_at = timezone.now()
    if to_state in RELEASES_MONTH and charge.month_claim is not None:
        fields = {**fields, "month_claim": None}
    if charge.attention and "attention" not in fields:
        # Why it needed staff was about the state it leaves (a refused cancel, an unreachable
        # gateway); a move that still needs them says so again.
        fields = {**fields, "attention": ""}
    for name, value in fields.items():
        setattr(charge, name, value)
    charge.save(update_fields=["state", "state_changed_at", "updated_at", *fields])
    ChargeEvent.objects.create(
        charge=charge,
        from_state=from_state,
        to_state=to_state,
        actor=recorded_user(actor),
        actor_label=actor_label[:80],
        reason=reason,
    )
    if charge.carne_id is not None and to_state in SETTLED_STATES:
        _finish_carne_when_settled(charge.carne_id, actor=actor, actor_label=actor_label)
    after_transition(charge, from_state=from_state, to_state=to_state, payment=payment)
    return charge


def note(
    charge: Charge, reason: str, *, actor: AbstractBaseUser | None = None, actor_label: str = ""
) -> ChargeEvent:
    """A history row that changes no state (what a look-up found, a staff decision's reason)."""
    return ChargeEvent.objects.create(
        charge=charge,
        from_state=charge.state,
        to_state=charge.state,
        actor=recorded_user(actor),
        actor_label=actor_label[:80],
        reason=reason,
    )


def carne_transition(
    carne: Carne,
    to_state: str,
    *,
    actor: AbstractBaseUser | None = None,
    actor_label: str = "",
    reason: str = "",
) -> Carne:
    """Move ``carne`` (locked by the caller) to ``to_state`` and record the event."""
    if to_state not in CARNE_ALLOWED.get(carne.state, frozenset()):
        raise IllegalCarneTransition(carne, to_state)
    from_state = carne.state
    carne.state = to_state
    carne.save(update_fields=["state"])
    CarneEvent.objects.create(
        carne=carne,
        from_state=from_state,
        to_state=to_state,
        actor=recorded_user(actor),
        actor_label=actor_label[:80],
        reason=reason,
    )
    return carne


def _finish_carne_when_settled(carne_id: int, *, actor: AbstractBaseUser | None, actor_label: str) -> None:
    # The carnê's row lock serialises the installments settled at the same time: the last one to
    # take it sees every other one settled (committed), so the carnê is finished exactly once.
    carne = Carne.objects.select_for_update().get(pk=carne_id)
    if carne.state != CarneState.OPEN:
        return
    if Charge.objects.filter(carne_id=carne_id).exclude(state__in=SETTLED_STATES).exists():
        return
    carne_transition(
        carne,
        CarneState.FINISHED,
        actor=actor,
        actor_label=actor_label,
        reason=_("Every installment is paid, refunded or cancelled."),
    )


def claim_back(*, paid: Charge, copy: Charge) -> None:
    """A boleto was paid while its second copy was on its way: it bills its month again, so the
    claim the copy took moves back. Both rows are locked by the caller; the copy lets go first, so
    that the one-claim-per-customer-and-month constraint holds at every statement."""
    claim = copy.month_claim
    if claim is None or paid.month_claim is not None:
        return
    copy.month_claim = None
    copy.save(update_fields=["month_claim", "updated_at"])
    paid.month_claim = claim
    paid.save(update_fields=["month_claim", "updated_at"])
