"""The charge state machine: the one place where a charge's state changes.

Callers hold the row lock (``select_for_update`` inside ``transaction.atomic``); this module checks
the move against :data:`ALLOWED`, saves, and appends the history row in the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Charge, ChargeEvent, ChargeState
from core.errors import ApplicationError

S = ChargeState

ALLOWED: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.ISSUING, S.CANCELLED}),
    # issuing -> pending only when the request surely never left (connection refused).
    S.ISSUING: frozenset({S.ISSUED, S.FAILED, S.UNKNOWN, S.PENDING, S.PAID}),
    # unknown -> failed when staff confirm a Mycontas charge never registered.
    S.UNKNOWN: frozenset({S.ISSUED, S.PENDING, S.FAILED, S.PAID}),
    S.ISSUED: frozenset({S.CANCEL_REQUESTED, S.PAID}),
    S.FAILED: frozenset({S.PENDING, S.CANCELLED}),
    # cancel_requested -> issued when the gateway refuses the cancel (message kept for staff).
    S.CANCEL_REQUESTED: frozenset({S.CANCELLED, S.ISSUED, S.PAID}),
    # Money is never hidden: a payment after a cancel still marks the charge paid.
    S.CANCELLED: frozenset({S.PAID}),
    S.PAID: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}


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
    **fields: Any,
) -> Charge:
    """Move ``charge`` (locked by the caller) to ``to_state``, set ``fields``, record the event."""
    if not can_transition(charge.state, to_state):
        raise IllegalTransition(charge, to_state)
    from_state = charge.state
    charge.state = to_state
    charge.state_changed_at = timezone.now()
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
