"""The buttons on a charge's and a carnê's page: what staff may do in its state (core/object_actions.py).

Other modules add theirs with ``add_object_actions(ChargeAdmin, ObjectAction(...))``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from billing.forms import CancelReasonForm
from billing.models import OPEN_STATES, Carne, CarneState, Charge, ChargeState
from billing.services import charges as charge_services
from core.admin import acting_user
from core.audit import log_staff_action
from core.documents import digits
from core.links import safe_gateway_link
from core.object_actions import ObjectAction

S = ChargeState
CHANGE_CHARGE = "billing.change_charge"
#: Staff may cancel these: unsent ones end at once, issued ones are cancelled at the gateway.
CANCELLABLE_STATES = (S.PENDING, S.FAILED, S.ISSUED)


def cancel_message(state: str, reason: str) -> str:
    """The history line of a staff cancel: done here, or sent to the gateway."""
    text = gettext("Cancel sent to the gateway.") if state == S.CANCEL_REQUESTED else gettext("Cancelled.")
    return f"{text} {gettext('Reason: %(reason)s') % {'reason': reason}}" if reason else text


def carne_cancel_message(count: int, reason: str) -> str:
    text = ngettext(
        "Carnê cancelled: %(count)d installment cancelled or sent for cancelling.",
        "Carnê cancelled: %(count)d installments cancelled or sent for cancelling.",
        count,
    ) % {"count": count}
    return f"{text} {gettext('Reason: %(reason)s') % {'reason': reason}}" if reason else text


def _cancel(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> str:
    cancelled = charge_services.charge_request_cancel(
        charge=charge, actor=acting_user(request), reason=data["reason"]
    )
    return cancel_message(cancelled.state, data["reason"])


def _send_again(request: HttpRequest, charge: Charge, data: dict[str, Any]) -> str:
    charge_services.charge_retry(charge=charge, actor=acting_user(request))
    return gettext("Sent to the gateway again (retry).")


CHARGE_ACTIONS = (
    ObjectAction(
        name="boleto",
        label=_("Open the boleto"),
        # A cancelled or refunded charge's boleto is no longer something to open for anyone; only a
        # link core.links allows (https, the gateway's own domains) becomes a button.
        when=lambda charge: (
            bool(safe_gateway_link(charge.bank_account.gateway, charge.link))
            and charge.state in (*OPEN_STATES, S.PAID)
        ),
        url=lambda charge: safe_gateway_link(charge.bank_account.gateway, charge.link),
    ),
    ObjectAction(
        name="linha-digitavel",
        label=_("Copy the linha digitável"),
        when=lambda charge: bool(charge.linha_digitavel) and charge.state in OPEN_STATES,
        copy=lambda charge: digits(charge.linha_digitavel),
    ),
    ObjectAction(
        name="pix",
        label=_("Copy the PIX code"),
        when=lambda charge: bool(charge.pix_payload) and charge.state in OPEN_STATES,
        copy=lambda charge: charge.pix_payload,
    ),
    ObjectAction(
        name="send-again",
        label=_("Send again"),
        permission=CHANGE_CHARGE,
        when=lambda charge: charge.state == S.FAILED,
        question=_(
            "Send this charge to the gateway again? If the gateway refused its data, correct the amount, "
            "due date or description on this page first."
        ),
        confirm_label=_("Yes, send it again"),
        perform=_send_again,
    ),
    ObjectAction(
        name="cancel",
        label=_("Cancel"),
        permission=CHANGE_CHARGE,
        when=lambda charge: charge.state in CANCELLABLE_STATES,
        question=_(
            "Cancel this charge? An issued boleto is cancelled at the gateway within the hour; a pending "
            "or failed one is cancelled here at once."
        ),
        form_class=CancelReasonForm,
        confirm_label=_("Yes, cancel it"),
        perform=_cancel,
        danger=True,
    ),
)


def _cancel_carne(request: HttpRequest, carne: Carne, data: dict[str, Any]) -> str:
    reason = data["reason"]
    charges = charge_services.carne_request_cancel(carne=carne, actor=acting_user(request), reason=reason)
    for charge in charges:
        log_staff_action(user=request.user, objects=charge, message=cancel_message(charge.state, reason))
    return carne_cancel_message(len(charges), reason)


CARNE_ACTIONS = (
    ObjectAction(
        name="carne-link",
        label=_("Open the carnê"),
        when=lambda carne: (
            bool(safe_gateway_link(carne.bank_account.gateway, carne.installment_link))
            and carne.state == CarneState.OPEN
        ),
        url=lambda carne: safe_gateway_link(carne.bank_account.gateway, carne.installment_link),
    ),
    ObjectAction(
        name="cancel",
        label=_("Cancel carnê"),
        permission="billing.change_carne",
        when=lambda carne: carne.state == CarneState.OPEN,
        question=_("Cancel every open installment of this carnê? Paid installments stay paid."),
        form_class=CancelReasonForm,
        confirm_label=_("Yes, cancel it"),
        perform=_cancel_carne,
        danger=True,
    ),
)
