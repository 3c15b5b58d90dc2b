"""Creating, issuing and cancelling charges: the rules that keep a boleto from being sent twice.

Every gateway call happens *outside* a database transaction, between two short locked steps:

1. lock the row, check the state, move ``pending → issuing`` and commit;
2. call the gateway (no lock held, no transaction open);
3. lock the row again and record the answer: ``issued``, ``failed``, or — when the answer never
   came — ``unknown``.

An ``unknown`` charge is never sent again until the gateway has been asked whether it already holds
it and the answer *proves* it absent (:func:`charge_resolve_unknown`). Only one worker can win step 1, so
concurrent tasks, retries and sweeps cannot issue the same charge twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    MONTH_BILLING_STATES,
    Attention,
    Carne,
    CarneState,
    Charge,
    ChargeEvent,
    ChargeState,
    GatewayCustomer,
)
from billing.services.dates import add_months
from billing.services.descriptions import description_problems, lines_to_send
from billing.services.gateway_access import gateway_for
from billing.services.transitions import carne_transition, claim_back, note, recorded_user, transition
from core import queue
from core.dates import today
from core.errors import ApplicationError
from core.links import gateway_link_allowed
from customers.models import Customer
from gateways.base import (
    MAX_INSTALLMENTS,
    ChargeRequest,
    GatewayAnswerInvalid,
    GatewayError,
    GatewayUnavailable,
    IssuedCharge,
    IssueResult,
    LookupOutcome,
    LookupResult,
    OperationUnsupported,
    Payer,
)
from gateways.registry import offers_month_end_carnes
from providers.models import BankAccount, Gateway

logger = logging.getLogger(__name__)
S = ChargeState
T = TypeVar("T")


def new_reference(prefix: str) -> str:
    """``T-`` (título) or ``C-`` (carnê) and 64 random bits: unique, stable, well under 50 chars."""
    return f"{prefix}-{secrets.token_hex(8).upper()}"


# --- creation ------------------------------------------------------------------------------------
class AlreadyIssued(ApplicationError):
    """The reference a staff form carries was already used: that submit was committed before."""

    def __init__(self, existing: Charge | Carne) -> None:
        super().__init__(
            _("This form was already submitted: %(reference)s was issued then, nothing new was issued.")
            % {"reference": existing.reference}
        )
        self.existing = existing


def _refuse_reused(model: type[Charge] | type[Carne], reference: str) -> None:
    """Raise :class:`AlreadyIssued` when a staff form's ``reference`` was already used."""
    existing = model._default_manager.filter(reference=reference).first()
    if existing is not None:
        raise AlreadyIssued(existing)


def _check_amount(amount: Decimal) -> Decimal:
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0:
        raise ApplicationError(_("The amount must be greater than zero."))
    return amount


def _check_description(customer: Customer, description: str, *, installments: int) -> None:
    account = customer.bank_account
    problems = description_problems(
        description,
        gateway=account.gateway,
        gateway_label=str(Gateway(account.gateway).label),
        installments=installments,
    )
    if problems:
        raise ApplicationError(" ".join(problems))


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def billed_months(*, customer: Customer, months: Sequence[dt.date]) -> list[Charge]:
    """The customer's charges that bill any of ``months`` and are open, on their way or paid."""
    return list(
        Charge.objects.filter(
            customer=customer, billing_month__in=set(months), state__in=MONTH_BILLING_STATES
        ).order_by("billing_month", "id")
    )


def _month_label(month: dt.date) -> str:
    return month.strftime("%m/%Y")


def _overlap_message(customer: Customer, overlapping: Sequence[Charge]) -> str:
    months = sorted({c.billing_month for c in overlapping})
    return _(
        "%(customer)s already has a bill for %(months)s: %(references)s. Cancel it first, or give a "
        "reason to issue a second bill for the same month."
    ) % {
        "customer": customer.name,
        "months": ", ".join(_month_label(m) for m in months),
        "references": ", ".join(c.reference for c in overlapping),
    }


def _claims(
    customer: Customer, months: Sequence[dt.date], override_reason: str
) -> tuple[list[dt.date | None], str]:
    """Which month each new charge claims, and the history note of a second bill staff allowed.

    Refuses (naming the charges) when a month is already billed and no reason is given.
    """
    overlapping = billed_months(customer=customer, months=months)
    if not overlapping:
        return list(months), ""
    if not override_reason.strip():
        raise ApplicationError(_overlap_message(customer, overlapping))
    taken = {c.billing_month for c in overlapping}
    note_text = _(
        "Second bill for %(months)s (already billed by %(references)s), allowed by staff: %(reason)s"
    ) % {
        "months": ", ".join(_month_label(m) for m in sorted(taken)),
        "references": ", ".join(c.reference for c in overlapping),
        "reason": override_reason.strip(),
    }
    return [None if month in taken else month for month in months], note_text


def _saved_with_claims(
    save: Callable[[], T],
    *,
    customer: Customer,
    months: Sequence[dt.date],
    model: type[Charge] | type[Carne],
    reference: str,
) -> T:
    """Run ``save`` in its own transaction. An insert that loses a race is explained: to a second
    submit of the same form (its reference is taken: :class:`AlreadyIssued`), or to another request
    that claimed one of these months meanwhile (refused like any overlap)."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError:
        _refuse_reused(model, reference)
        overlapping = billed_months(customer=customer, months=months)
        if not overlapping:
            raise
        raise ApplicationError(_overlap_message(customer, overlapping)) from None


def charge_create(
    *,
    customer: Customer,
    amount: Decimal,
    due_date: dt.date,
    description: str,
    created_by: AbstractBaseUser | None = None,
    billing_month: dt.date | None = None,
    override_reason: str = "",
    enqueue: bool = True,
    reference: str | None = None,
) -> Charge:
    """A new ``pending`` título; with ``enqueue`` the issue task runs once this commits.

    It bills ``billing_month`` (the due date's month unless given). A month the customer already
    has an open or paid bill for is refused, naming that bill, unless staff give
    ``override_reason``: then the título is created without claiming the month and the reason
    goes into its history. The database keeps one claim per customer and month.

    ``reference`` (a staff form's, chosen when the form was shown) makes a repeated submit harmless:
    :class:`AlreadyIssued` names the título that reference already created (checked first, so a
    repeated submit is never mistaken for a second bill of the month).
    """
    amount = _check_amount(amount)
    if due_date < today():
        raise ApplicationError(_("The due date cannot be in the past."))
    _check_description(customer, description, installments=1)
    reference = reference or new_reference("T")
    _refuse_reused(Charge, reference)
    month = month_of(billing_month or due_date)
    (claim,), note_text = _claims(customer, [month], override_reason)

    def save() -> Charge:
        charge = Charge(
            reference=reference,
            customer=customer,
            bank_account_id=customer.bank_account_id,
            amount=amount,
            due_date=due_date,
            description=description,
            billing_month=month,
            month_claim=claim,
            created_by=recorded_user(created_by),
        )
        charge.full_clean(exclude=["customer", "bank_account", "created_by"])
        charge.save()
        _record_creation(charge, created_by, note_text)
        if enqueue:
            queue.enqueue(queue.ISSUE_CHARGE, charge.pk)
        return charge

    return _saved_with_claims(save, customer=customer, months=[month], model=Charge, reference=reference)


def _installment_due_dates(first: dt.date, installments: int, *, last_day_of_month: bool) -> list[dt.date]:
    return [
        first if number == 0 else add_months(first, number, last_day_of_month=last_day_of_month)
        for number in range(installments)
    ]


def carne_create(
    *,
    customer: Customer,
    installments: int,
    amount: Decimal,
    first_due_date: dt.date,
    description: str,
    last_day_of_month: bool = False,
    created_by: AbstractBaseUser | None = None,
    first_billing_month: dt.date | None = None,
    override_reason: str = "",
    enqueue: bool = True,
    reference: str | None = None,
) -> Carne:
    """A carnê of ``installments`` pending charges due monthly from ``first_due_date``.

    Every installment bills its own month: ``first_billing_month`` (the first due date's month
    unless given) and the following ones. Months already billed are refused as in
    :func:`charge_create`, naming the bills, unless staff give ``override_reason``.
    "Due on the last day of each month" is refused for a gateway that cannot print it (Juno).
    ``reference`` works as :func:`charge_create`'s does.
    """
    amount = _check_amount(amount)
    if not 1 <= installments <= MAX_INSTALLMENTS:
        raise ApplicationError(
            _("A carnê has between 1 and %(max)d installments.") % {"max": MAX_INSTALLMENTS}
        )
    if first_due_date < today():
        raise ApplicationError(_("The due date cannot be in the past."))
    if last_day_of_month and not offers_month_end_carnes(customer.bank_account.gateway):
        raise ApplicationError(
            _(
                '%(gateway)s has no "last day of the month" option: its installments fall on the '
                "first one's day each month. Issue the carnê without that option."
            )
            % {"gateway": Gateway(customer.bank_account.gateway).label}
        )
    _check_description(customer, description, installments=installments)
    dues = _installment_due_dates(first_due_date, installments, last_day_of_month=last_day_of_month)
    first_month = month_of(first_billing_month or first_due_date)
    months = [add_months(first_month, number) for number in range(installments)]
    reference = reference or new_reference("C")
    _refuse_reused(Carne, reference)
    claims, note_text = _claims(customer, months, override_reason)
    actor = recorded_user(created_by)

    def save() -> Carne:
        carne = Carne.objects.create(
            reference=reference,
            customer=customer,
            bank_account_id=customer.bank_account_id,
            installments=installments,
            amount=amount,
            first_due_date=first_due_date,
            last_day_of_month=last_day_of_month,
        )
        Charge.objects.bulk_create(
            Charge(
                reference=f"{carne.reference}-{number:02d}",
                customer=customer,
                bank_account_id=customer.bank_account_id,
                carne=carne,
                installment_number=number,
                amount=amount,
                due_date=due,
                description=description,
                billing_month=month,
                month_claim=claim,
                created_by=actor,
            )
            for number, (due, month, claim) in enumerate(zip(dues, months, claims, strict=True), start=1)
        )
        for charge in carne.installment_charges.all():
            _record_creation(charge, created_by, note_text)
        if enqueue:
            queue.enqueue(
                queue.ISSUE_CHARGE,
                carne.installment_charges.order_by("installment_number").values_list("pk", flat=True)[0],
            )
        return carne

    return _saved_with_claims(save, customer=customer, months=months, model=Carne, reference=reference)


def _record_creation(charge: Charge, actor: AbstractBaseUser | None, note_text: str = "") -> None:
    ChargeEvent.objects.create(
        charge=charge,
        from_state="",
        to_state=charge.state,
        actor=recorded_user(actor),
        reason=f"{_('Created')}. {note_text}" if note_text else _("Created"),
    )


# --- issuing -------------------------------------------------------------------------------------
#: Lock only the charge rows (``of=CHARGE_ROWS``). A bare select_for_update() with select_related
#: would also lock the joined customer and bank account rows, and every charge of one account would
#: queue behind the same account row: issuing would run one transaction at a time however many
#: workers there are.
CHARGE_ROWS = ("self",)


def _locked_group(charge_id: int) -> list[Charge]:
    """The charge, or every installment of its carnê, locked in a stable order (no deadlocks)."""
    charge = (
        Charge.objects.select_for_update(of=CHARGE_ROWS)
        .select_related("customer", "bank_account")
        .get(pk=charge_id)
    )
    if charge.carne_id is None:
        return [charge]
    return list(
        Charge.objects.select_for_update(of=CHARGE_ROWS)
        .select_related("customer", "bank_account", "carne")
        .filter(carne_id=charge.carne_id)
        .order_by("installment_number")
    )


def _payer(customer: Customer, account: BankAccount) -> Payer:
    known = (  # only Asaas keeps customers: the other gateways cost no query here
        GatewayCustomer.objects.filter(
            customer=customer, bank_account=account, sandbox=account.is_sandbox
        ).first()
        if account.gateway == Gateway.ASAAS
        else None
    )
    return Payer(
        gateway_customer_id=known.gateway_customer_id if known else "",
        name=customer.name,
        document=customer.document,
        email=customer.email,
        secondary_email=customer.secondary_email,
        phone=customer.mobile or customer.phone,
        birth_date=customer.birth_date,
        street=customer.street,
        number=customer.number,
        complement=customer.complement,
        neighborhood=customer.neighborhood,
        city=customer.city,
        state=customer.state,
        postcode=customer.postcode,
    )


def _request_for(group: Sequence[Charge]) -> ChargeRequest:
    first = group[0]
    carne = first.carne
    return ChargeRequest(
        reference=carne.reference if carne else first.reference,
        amount=first.amount,
        due_date=first.due_date,
        description_lines=lines_to_send(
            first.description,
            gateway=first.bank_account.gateway,
            due_date=first.due_date,
            installment=first.installment_number or 1,
        ),
        payer=_payer(first.customer, first.bank_account),
        installments=len(group),
        last_day_of_month=bool(carne and carne.last_day_of_month),
    )


def _kept_link(gateway: str, url: str) -> str:
    """A link the gateway gave, when it may be stored (core.links.gateway_link_allowed), else ""."""
    return url[:500] if url and gateway_link_allowed(gateway, url) else ""


def _refused_links(gateway: str, issued: IssuedCharge) -> list[str]:
    """One history line for each link of the answer that is not the gateway's own https address."""
    links = (issued.link, issued.checkout_url, issued.installment_link)
    return [
        _("The page address given, %(link)s, is not an https address of the gateway: not kept.")
        % {"link": url[:200]}
        for url in dict.fromkeys(links)
        if url and not gateway_link_allowed(gateway, url)
    ]


def _issued_fields(issued: IssuedCharge, gateway: str) -> dict[str, Any]:
    """What a charge keeps of the gateway's answer; its links only when they are the gateway's own
    https addresses (a link elsewhere stays in ``gateway_payload`` as text, never a link)."""
    return {
        "gateway_code": issued.code[:64],
        "link": _kept_link(gateway, issued.link),
        "checkout_url": _kept_link(gateway, issued.checkout_url),
        "installment_link": _kept_link(gateway, issued.installment_link),
        "linha_digitavel": issued.linha_digitavel[:60],
        "barcode": issued.barcode[:60],
        "gateway_bank_account": issued.bank_account[:60],
        "our_number": issued.our_number[:40],
        "pix_payload": issued.pix_payload,
        "pix_expires_at": issued.pix_expires_at,
        "gateway_payload": dict(issued.raw),
        "error_message": "",
        "attention": "",
    }


def _match(group: Sequence[Charge], charges: Sequence[IssuedCharge]) -> list[IssuedCharge | None]:
    """Pair each installment with the gateway's charge: by reference, else by due-date order."""
    by_ref = {c.reference: c for c in charges if c.reference}
    if all(ch.reference in by_ref for ch in group):
        return [by_ref[ch.reference] for ch in group]
    ordered = sorted(charges, key=lambda c: (c.due_date or dt.date.max, c.code))
    return [ordered[i] if i < len(ordered) else None for i in range(len(group))]


def _gateway_terms(charge: Charge, issued: IssuedCharge) -> tuple[dict[str, Any], str]:
    """The due date and amount the gateway holds, where they differ from ours, and a note saying so.

    The boleto is what the subscriber pays: when the gateway answers another due date (a weekend
    moved) or amount, the gateway's is kept here, and the history says what was asked.
    """
    fields: dict[str, Any] = {}
    notes = []
    if issued.due_date and issued.due_date != charge.due_date:
        fields["due_date"] = issued.due_date
        notes.append(
            _("due date %(asked)s asked, %(kept)s at the gateway")
            % {"asked": charge.due_date.strftime("%d/%m/%Y"), "kept": issued.due_date.strftime("%d/%m/%Y")}
        )
    if issued.amount is not None and issued.amount.quantize(Decimal("0.01")) != charge.amount:
        fields["amount"] = issued.amount.quantize(Decimal("0.01"))
        notes.append(
            _("amount %(asked)s asked, %(kept)s at the gateway")
            % {"asked": charge.amount, "kept": fields["amount"]}
        )
    if not notes:
        return fields, ""
    return fields, _("The gateway's terms are kept: %(differences)s.") % {"differences": "; ".join(notes)}


def _apply_issued(
    group: Sequence[Charge], charges: Sequence[IssuedCharge], *, actor_label: str, reason: str
) -> None:
    gateway = group[0].bank_account.gateway
    for charge, issued in zip(group, _match(group, charges), strict=True):
        fields = _issued_fields(issued, gateway) if issued else {"error_message": ""}
        terms, terms_note = _gateway_terms(charge, issued) if issued else ({}, "")
        fields.update(terms)
        if charge.state in (S.ISSUING, S.UNKNOWN):
            why = f"{reason}. {terms_note}" if terms_note else reason
            transition(charge, S.ISSUED, actor_label=actor_label, reason=why, **fields)
            if charge.replaces_id is not None:
                _settle_replacement(charge, actor_label=actor_label)
        elif issued:  # already moved on (e.g. paid by an early notification): keep what the gateway said
            for name, value in fields.items():
                setattr(charge, name, value)
            charge.save(update_fields=[*fields, "updated_at"])
            if terms_note:
                note(charge, terms_note, actor_label=actor_label)
        for refused in _refused_links(gateway, issued) if issued else []:
            note(charge, refused, actor_label=actor_label)
    carne = group[0].carne
    carne_link = _kept_link(gateway, charges[0].installment_link) if charges else ""
    if carne and carne_link and not carne.installment_link:
        carne.installment_link = carne_link
        carne.save(update_fields=["installment_link"])


def _issued_reason(result: IssueResult) -> str:
    """The history's line for an accepted issue, with what the gateway said besides (for staff)."""
    if result.message:
        return _("Issued by the gateway: %(note)s") % {"note": result.message}
    return _("Issued by the gateway")


@dataclass(frozen=True)
class Registration:
    """What :func:`charge_registered_at_gateway` did. ``discrepancy`` and ``link_refused`` are for
    staff (also written in the charge's history); empty when there was nothing to say."""

    charge: Charge
    discrepancy: str = ""
    link_refused: str = ""


def charge_registered_at_gateway(
    *, charge_id: int, gateway: str, number: str, link: str, actor_label: str
) -> Registration:
    """The gateway's own word, after the fact, that it registered the charge (Mycontas' return POST).

    Mycontas answers the issue call before it registers anything, then posts the charge's number and
    page to us: an ``issuing`` or ``unknown`` charge becomes ``issued`` with them. What is settled
    stays settled: a charge that already has a number keeps it and its page, and a return that says
    otherwise is recorded in the history as a discrepancy for staff. A page that is not an https
    address of the gateway's own domains is never stored (a forged return could otherwise send
    subscribers anywhere); it stays in the stored notification as text.
    """
    number = number[:64]
    refused = ""
    if link and not gateway_link_allowed(gateway, link):
        refused = _("The page address given, %(link)s, is not an https address of the gateway: not kept.") % {
            "link": link[:200]
        }
        link = ""
    link = link[:500]
    with transaction.atomic():
        charge = Charge.objects.select_for_update().get(pk=charge_id)
        if charge.gateway_code:
            differs = number != charge.gateway_code or bool(link and charge.link and link != charge.link)
            if differs:
                discrepancy = _(
                    "The gateway sent number %(number)s and page %(link)s for this charge, registered as "
                    "%(current)s: the registered number and page are kept; check the charge at the gateway."
                ) % {"number": number, "link": link or "-", "current": charge.gateway_code}
                note(charge, discrepancy, actor_label=actor_label)
                return Registration(charge, discrepancy=discrepancy, link_refused=refused)
            if link and not charge.link:
                charge.link = link
                charge.save(update_fields=["link", "updated_at"])
        else:
            fields: dict[str, Any] = {"gateway_code": number, **({"link": link} if link else {})}
            if charge.state in (S.ISSUING, S.UNKNOWN):
                transition(
                    charge,
                    S.ISSUED,
                    actor_label=actor_label,
                    reason=_("Registered at Mycontas as %(number)s") % {"number": number},
                    error_message="",
                    **fields,
                )
                if charge.replaces_id is not None:
                    _settle_replacement(charge, actor_label=actor_label)
            else:
                for name, value in fields.items():
                    setattr(charge, name, value)
                charge.save(update_fields=[*fields, "updated_at"])
        if refused:
            note(charge, refused, actor_label=actor_label)
    return Registration(charge, link_refused=refused)


def _remember_gateway_customer(charge: Charge, gateway_customer_id: str) -> None:
    """Keep the payer's id at the gateway (Asaas) so the next charge registers nobody."""
    if not gateway_customer_id:
        return
    account = charge.bank_account
    GatewayCustomer.objects.update_or_create(
        customer_id=charge.customer_id,
        bank_account=account,
        sandbox=account.is_sandbox,
        defaults={"gateway_customer_id": gateway_customer_id[:64]},
    )


def _settle_replacement(new: Charge, *, actor_label: str) -> None:
    """A second copy is issued: only now is the boleto it replaces cancelled at the gateway.

    Had the subscriber paid the old boleto meanwhile, the second copy is the one cancelled.
    """
    old = Charge.objects.select_for_update(of=CHARGE_ROWS).get(pk=new.replaces_id or 0)
    if old.state == S.ISSUED:
        transition(
            old,
            S.CANCEL_REQUESTED,
            actor_label=actor_label,
            reason=_("Replaced by the second copy %(reference)s") % {"reference": new.reference},
        )
        queue.enqueue(queue.CANCEL_CHARGE, old.pk)
    elif old.state == S.PAID:
        claim_back(paid=old, copy=new)
        transition(
            new,
            S.CANCEL_REQUESTED,
            actor_label=actor_label,
            reason=_("%(reference)s, which this second copy replaces, was paid meanwhile")
            % {"reference": old.reference},
        )
        queue.enqueue(queue.CANCEL_CHARGE, new.pk)


def _set_group(
    group: Sequence[Charge], to_state: str, *, actor_label: str, reason: str, **fields: Any
) -> None:
    for charge in group:
        if charge.state in (S.ISSUING, S.UNKNOWN):
            transition(charge, to_state, actor_label=actor_label, reason=reason, **fields)


def _unreachable_attention(group: Sequence[Charge], error: GatewayUnavailable) -> str:
    """Back to ``pending`` without reaching the gateway, again: after GATEWAY_UNREACHABLE_ATTEMPTS
    attempts staff are told (the tasks and the sweep keep trying). A throttling answer reached it."""
    attempts = max(c.issue_attempts for c in group)
    if error.throttled or attempts < settings.GATEWAY_UNREACHABLE_ATTEMPTS:
        return group[0].attention
    return Attention.UNREACHABLE


def _start_issue(charge_id: int, actor_label: str) -> tuple[Charge, ChargeRequest | None, BankAccount | None]:
    """Step 1: lock the group and move it ``pending → issuing``; (charge, None, None) if not pending."""
    with transaction.atomic():
        group = _locked_group(charge_id)
        charge = next(c for c in group if c.pk == charge_id)
        if any(c.state != S.PENDING for c in group):
            return charge, None, None
        for c in group:
            transition(
                c,
                S.ISSUING,
                actor_label=actor_label,
                reason=_("Sending to the gateway"),
                issue_attempts=c.issue_attempts + 1,
            )
        return charge, _request_for(group), group[0].bank_account


def charge_issue(*, charge_id: int, actor_label: str = "issue") -> Charge:
    """Send a pending charge (or its whole carnê) to the gateway. Idempotent.

    Returns the charge in its new state. Re-raises :class:`GatewayUnavailable` after recording
    the state, so a task can retry with backoff; every other gateway error is recorded and
    swallowed. An ``unknown`` charge is first looked up and only re-sent when proved absent.
    """
    charge, request, account = _start_issue(charge_id, actor_label)
    if request is None and charge.state == S.UNKNOWN:
        charge = charge_resolve_unknown(charge_id=charge_id, actor_label=actor_label)
        if charge.state != S.PENDING:
            return charge
        charge, request, account = _start_issue(charge_id, actor_label)
    if request is None or account is None:
        return charge

    gateway = gateway_for(account, charge_id=charge_id)
    error: GatewayError | None = None
    result: IssueResult | None = None
    try:
        result = gateway.issue(request)
    except GatewayError as exc:
        error = exc

    with transaction.atomic():
        group = _locked_group(charge_id)
        if result is not None:
            _remember_gateway_customer(group[0], result.customer_id)
            _apply_issued(group, result.charges, actor_label=actor_label, reason=_issued_reason(result))
        elif isinstance(error, GatewayUnavailable) and not error.maybe_sent:
            _set_group(
                group,
                S.PENDING,
                actor_label=actor_label,
                reason=error.message,
                error_message=error.message,
                attention=_unreachable_attention(group, error),
            )
        elif isinstance(error, GatewayUnavailable | GatewayAnswerInvalid):
            _set_group(
                group,
                S.UNKNOWN,
                actor_label=actor_label,
                reason=_("No clear answer; the gateway will be asked before any new attempt: %(error)s")
                % {"error": error.message},
                error_message=error.message,
            )
        else:
            assert error is not None
            _set_group(
                group, S.FAILED, actor_label=actor_label, reason=error.message, error_message=error.message
            )
        charge = next(c for c in group if c.pk == charge_id)

    if isinstance(error, GatewayUnavailable):
        raise error
    return charge


#: Where an ``unknown`` charge keeps what its last look-up saw, for staff (see :func:`lookup_record`).
LOOKUP_KEY = "lookup"


def _candidate_record(candidate: IssuedCharge) -> dict[str, object]:
    return {
        "code": candidate.code,
        "due_date": candidate.due_date.isoformat() if candidate.due_date else "",
        "amount": str(candidate.amount) if candidate.amount is not None else "",
        "payer_document": candidate.payer_document,
        "description": candidate.description,
        "link": candidate.link,  # shown as text; a link only where gateway_link_allowed
        "linha_digitavel": candidate.linha_digitavel,
        "status": candidate.status,
        "raw": dict(candidate.raw),
    }


def lookup_record(result: LookupResult) -> dict[str, object]:
    """What a look-up that could not decide leaves on the charge: outcome, reason, candidates."""
    return {
        "outcome": str(result.outcome),
        "at": timezone.now().isoformat(),
        "complete": result.complete,
        "examined": result.examined,
        "reason": result.reason,
        "candidates": [_candidate_record(c) for c in result.candidates],
    }


def lookup_candidates(charge: Charge) -> list[dict[str, object]]:
    """The candidates the last look-up of an ``unknown`` charge listed (empty when none)."""
    record = (charge.gateway_payload or {}).get(LOOKUP_KEY) if charge.state == S.UNKNOWN else None
    candidates = record.get("candidates") if isinstance(record, dict) else None
    return [c for c in candidates if isinstance(c, dict)] if isinstance(candidates, list) else []


def _found_reason(result: LookupResult) -> str:
    if result.matched_by == LookupResult.FIELDS:
        return _(
            "Found at the gateway: the one charge there without a reference that matches amount, "
            "due date and what else it carries"
        )
    return _("Found at the gateway by reference")


def _keep_undecided(group: Sequence[Charge], result: LookupResult, *, actor_label: str) -> None:
    """Stay ``unknown``: the look-up's candidates are kept for staff, the history says so once."""
    record = lookup_record(result)
    for charge in group:
        if charge.state != S.UNKNOWN:
            continue
        previous = (charge.gateway_payload or {}).get(LOOKUP_KEY)
        charge.gateway_payload = {**(charge.gateway_payload or {}), LOOKUP_KEY: record}
        charge.save(update_fields=["gateway_payload", "updated_at"])
        seen_before = isinstance(previous, dict) and {
            k: previous.get(k) for k in ("outcome", "candidates", "complete")
        } == {k: record[k] for k in ("outcome", "candidates", "complete")}
        if not seen_before:
            note(
                charge,
                _(
                    "Not proved absent at the gateway, so not sent again: %(reason)s Staff can mark a "
                    "candidate as this charge or confirm it absent."
                )
                % {"reason": result.reason},
                actor_label=actor_label,
            )


def charge_resolve_unknown(*, charge_id: int, actor_label: str = "lookup") -> Charge:
    """Ask the gateway whether an ``unknown`` charge exists, and act only on what is proved.

    Found (by reference, or as the one matching charge without a reference) → ``issued`` with the
    gateway's code, link and linha digitável. Proved absent (every page read, every charge in the
    window carrying a reference, none ours) → ``pending``, to be sent again. Anything else → still
    ``unknown``, its candidates kept for staff (:func:`charge_adopt_candidate`,
    :func:`charge_confirm_absent`): a boleto that may exist is never sent twice.
    Gateways without a look-up (Mycontas) leave it ``unknown`` for the return POST or for staff.
    """
    with transaction.atomic():
        group = _locked_group(charge_id)
        charge = next(c for c in group if c.pk == charge_id)
        if charge.state != S.UNKNOWN:
            return charge
        request = _request_for(group)
        account = group[0].bank_account
        due_dates = tuple(c.due_date for c in group)

    gateway = gateway_for(account, charge_id=charge_id)
    if not gateway.supports_lookup:
        return charge
    # GatewayError propagates: the charge stays unknown and the caller retries later.
    result = gateway.look_up(request, due_dates=due_dates)

    with transaction.atomic():
        group = _locked_group(charge_id)
        if result.outcome == LookupOutcome.FOUND:
            _apply_issued(group, result.charges, actor_label=actor_label, reason=_found_reason(result))
        elif result.outcome == LookupOutcome.PROVED_ABSENT:
            _set_group(
                group,
                S.PENDING,
                actor_label=actor_label,
                reason=_(
                    "Proved absent at the gateway (%(count)d charge(s) in the window, each with another "
                    "reference): safe to send again"
                )
                % {"count": result.examined},
            )
        else:
            _keep_undecided(group, result, actor_label=actor_label)
        return next(c for c in group if c.pk == charge_id)


def _locked_unknown(charge: Charge) -> tuple[list[Charge], Charge]:
    group = _locked_group(charge.pk)
    locked = next(c for c in group if c.pk == charge.pk)
    if locked.state != S.UNKNOWN:
        raise ApplicationError(
            _("Charge %(reference)s is no longer unknown (%(state)s): nothing to decide.")
            % {"reference": locked.reference, "state": S(locked.state).label}
        )
    return group, locked


def charge_adopt_candidate(
    *, charge: Charge, code: str, actor: AbstractBaseUser | None = None, note_text: str = ""
) -> Charge:
    """Staff: "this one is ours". The candidate ``code`` of the last look-up becomes this charge's
    boleto (code, link, linha digitável); the charge is ``issued`` and the history names who chose."""
    with transaction.atomic():
        _group, locked = _locked_unknown(charge)
        chosen = next((c for c in lookup_candidates(locked) if str(c.get("code")) == str(code)), None)
        if chosen is None:
            raise ApplicationError(
                _("%(code)s is not among the gateway's candidates for %(reference)s.")
                % {"code": code, "reference": locked.reference}
            )
        if Charge.objects.filter(bank_account_id=locked.bank_account_id, gateway_code=str(code)).exists():
            raise ApplicationError(
                _("Gateway code %(code)s already belongs to another charge here.") % {"code": code}
            )
        raw = chosen.get("raw")
        issued = _candidate_charge(chosen, raw if isinstance(raw, dict) else {})
        why = _("Found at the gateway: staff marked charge %(code)s as this one") % {"code": code}
        if note_text.strip():
            why = f"{why} ({note_text.strip()})"
        gateway = locked.bank_account.gateway
        transition(locked, S.ISSUED, actor=actor, reason=why, **_issued_fields(issued, gateway))
        for refused in _refused_links(gateway, issued):
            note(locked, refused, actor=actor)
    return locked


def _candidate_charge(record: dict[str, object], raw: dict[str, object]) -> IssuedCharge:
    """An :class:`IssuedCharge` back from a stored candidate record."""
    due = str(record.get("due_date") or "")
    return IssuedCharge(
        code=str(record.get("code") or ""),
        due_date=dt.date.fromisoformat(due) if due else None,
        link=str(record.get("link") or ""),
        linha_digitavel=str(record.get("linha_digitavel") or ""),
        raw=raw,
    )


def charge_confirm_absent(
    *, charge: Charge, actor: AbstractBaseUser | None = None, reason: str, enqueue: bool = True
) -> Charge:
    """Staff: "confirmed absent: send again". The whole carnê (or the título) goes back to
    ``pending`` with the written reason in its history, and is sent again."""
    if not reason.strip():
        raise ApplicationError(_("Say how you confirmed the charge is not at the gateway."))
    with transaction.atomic():
        group, locked = _locked_unknown(charge)
        why = _("Confirmed absent at the gateway by staff: send again (%(reason)s)") % {
            "reason": reason.strip()
        }
        for member in group:
            if member.state == S.UNKNOWN:
                transition(member, S.PENDING, actor=actor, reason=why, error_message="")
        if enqueue:
            queue.enqueue(queue.ISSUE_CHARGE, locked.pk)
    return locked


def charge_retry(*, charge: Charge, actor: AbstractBaseUser | None = None, enqueue: bool = True) -> Charge:
    """A failed charge (fixed by staff) goes back to pending and is sent again."""
    with transaction.atomic():
        group = _locked_group(charge.pk)
        for c in group:
            if c.state == S.FAILED:
                transition(c, S.PENDING, actor=actor, reason=_("Retry requested"), error_message="")
        charge = next(c for c in group if c.pk == charge.pk)
        if charge.state != S.PENDING:
            raise ApplicationError(
                _("Only failed charges can be retried; %(reference)s is %(state)s.")
                % {"reference": charge.reference, "state": S(charge.state).label}
            )
        if enqueue:
            queue.enqueue(queue.ISSUE_CHARGE, charge.pk)
    return charge


def charges_expire_issuing(*, older_than: dt.timedelta) -> int:
    """Charges stuck in ``issuing`` (a worker died mid-call) become ``unknown`` and get looked up."""
    cutoff = timezone.now() - older_than
    moved = 0
    for charge_id in Charge.objects.filter(state=S.ISSUING, state_changed_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            charge = Charge.objects.select_for_update().get(pk=charge_id)
            if charge.state == S.ISSUING and charge.state_changed_at < cutoff:
                transition(
                    charge,
                    S.UNKNOWN,
                    actor_label="sweep",
                    reason=_("No answer recorded: the worker may have stopped during the call"),
                )
                moved += 1
    return moved


# --- cancelling ----------------------------------------------------------------------------------
def charge_request_cancel(
    *, charge: Charge, actor: AbstractBaseUser | None = None, reason: str = "", enqueue: bool = True
) -> Charge:
    """Staff cancel: unsent charges end at once; issued ones are cancelled at the gateway by a task."""
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        state = locked.state
        why = reason or _("Cancelled by staff")
        if state in (S.PENDING, S.FAILED):
            transition(locked, S.CANCELLED, actor=actor, reason=why)
        elif state == S.ISSUED:
            transition(locked, S.CANCEL_REQUESTED, actor=actor, reason=why)
            if enqueue:
                queue.enqueue(queue.CANCEL_CHARGE, locked.pk)
        elif state in (S.CANCEL_REQUESTED, S.CANCELLED):
            pass  # already on its way: cancelling twice is not an error
        elif state in (S.PAID, S.REFUNDED):
            raise ApplicationError(
                _("Charge %(reference)s was paid: it cannot be cancelled.") % {"reference": locked.reference}
            )
        else:
            raise ApplicationError(
                _("Charge %(reference)s is being sent to the gateway (%(state)s); try again shortly.")
                % {"reference": locked.reference, "state": S(state).label}
            )
    return locked


def carne_request_cancel(
    *, carne: Carne, actor: AbstractBaseUser | None = None, reason: str = "", enqueue: bool = True
) -> list[Charge]:
    """Cancel every open installment; paid ones stay paid and visible.

    The carnê becomes ``cancelled`` (recorded in its history) unless it had already ended: a
    ``finished`` carnê has nothing left to cancel and stays finished.
    """
    results = []
    with transaction.atomic():
        # Installments first, then the carnê: the order in which a payment takes them.
        list(Charge.objects.select_for_update().filter(carne_id=carne.pk).order_by("pk").values_list("pk"))
        locked = Carne.objects.select_for_update().get(pk=carne.pk)
        if locked.state == CarneState.OPEN:
            carne_transition(locked, CarneState.CANCELLED, actor=actor, reason=reason)
        carne.state = locked.state
        for charge in carne.installment_charges.order_by("installment_number"):
            if charge.state in (S.PAID, S.REFUNDED, S.CANCELLED, S.CANCEL_REQUESTED):
                continue
            results.append(charge_request_cancel(charge=charge, actor=actor, reason=reason, enqueue=enqueue))
    return results


def charge_cancel_at_gateway(*, charge_id: int, actor_label: str = "cancel") -> Charge:
    """Send the cancel of a ``cancel_requested`` charge. Idempotent; transport errors propagate.

    A cancel the gateway refuses (say "Cobrança inválida") leaves the charge ``cancel_requested``
    with the gateway's message and marked as needing attention: the boleto may still be payable
    there, so it never goes quietly back to ``issued``, and the sweep does not resend the cancel.
    Staff resend it (:func:`charge_retry_cancel`) or withdraw it (:func:`charge_withdraw_cancel`).
    """
    with transaction.atomic():
        charge = (
            Charge.objects.select_for_update(of=CHARGE_ROWS).select_related("bank_account").get(pk=charge_id)
        )
        if charge.state != S.CANCEL_REQUESTED or charge.attention == Attention.CANCEL_REFUSED:
            return charge
        account, code = charge.bank_account, charge.gateway_code

    gateway = gateway_for(account, charge_id=charge_id)
    refused = ""
    why = _("Cancelled at the gateway")
    if code:
        try:
            gateway.cancel(code)
        except OperationUnsupported as exc:
            why = exc.message
        except GatewayUnavailable:
            raise
        except GatewayError as exc:
            refused = exc.message
    else:
        why = _("No gateway code: nothing to cancel at the gateway")

    with transaction.atomic():
        charge = Charge.objects.select_for_update().get(pk=charge_id)
        if charge.state != S.CANCEL_REQUESTED:
            return charge
        if refused:
            charge.attention, charge.error_message = Attention.CANCEL_REFUSED, refused
            charge.save(update_fields=["attention", "error_message", "updated_at"])
            note(
                charge,
                _("The gateway refused the cancel: %(error)s. The boleto may still be payable there.")
                % {"error": refused},
                actor_label=actor_label,
            )
        else:
            transition(
                charge,
                S.CANCELLED,
                actor_label=actor_label,
                reason=why,
                error_message="" if why == _("Cancelled at the gateway") else why,
                attention="",
            )
    return charge


def _locked_refused_cancel(charge: Charge) -> Charge:
    locked = Charge.objects.select_for_update().get(pk=charge.pk)
    if locked.state != S.CANCEL_REQUESTED or locked.attention != Attention.CANCEL_REFUSED:
        raise ApplicationError(
            _("Charge %(reference)s has no refused cancel to decide on.") % {"reference": locked.reference}
        )
    return locked


def charge_retry_cancel(
    *, charge: Charge, actor: AbstractBaseUser | None = None, enqueue: bool = True
) -> Charge:
    """Staff: send a cancel the gateway refused once more (after fixing the cause at the gateway)."""
    with transaction.atomic():
        locked = _locked_refused_cancel(charge)
        locked.attention = ""
        locked.save(update_fields=["attention", "updated_at"])
        note(locked, _("Cancel sent to the gateway again"), actor=actor)
        if enqueue:
            queue.enqueue(queue.CANCEL_CHARGE, locked.pk)
    return locked


def charge_withdraw_cancel(*, charge: Charge, actor: AbstractBaseUser | None = None, reason: str) -> Charge:
    """Staff: the gateway refused the cancel and the boleto stays payable: keep it ``issued``."""
    if not reason.strip():
        raise ApplicationError(_("Say why the charge stays issued."))
    with transaction.atomic():
        locked = _locked_refused_cancel(charge)
        transition(
            locked,
            S.ISSUED,
            actor=actor,
            reason=_("Cancel withdrawn by staff after the gateway refused it: %(reason)s")
            % {"reason": reason.strip()},
            attention="",
            error_message="",
        )
    return locked


# --- writing off ---------------------------------------------------------------------------------
def charges_write_off(*, on: dt.date | None = None, actor_label: str = "write_off") -> int:
    """Baixa: an issued boleto still unpaid on its due date plus the account's days to write off.

    It becomes ``written_off`` with its history: the portal stops offering it and the
    reconciliation leaves it. Nothing is sent to the gateway (after the account's days to accept
    late payment the boleto is no longer payable there anyway); a payment that still arrives is
    recorded and marks it paid. A contra-apresentação boleto has no deadline and is never written
    off. Returns how many were written off.
    """
    day = on or today()
    written = 0
    accounts = BankAccount.objects.filter(contra_apresentacao=False).values_list("pk", "days_to_write_off")
    for account_id, days in accounts:
        limit = day - dt.timedelta(days=days)
        due = Charge.objects.filter(bank_account_id=account_id, state=S.ISSUED, due_date__lt=limit)
        for charge_id in due.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                charge = Charge.objects.select_for_update().get(pk=charge_id)
                if charge.state != S.ISSUED or charge.due_date >= limit:
                    continue
                transition(
                    charge,
                    S.WRITTEN_OFF,
                    actor_label=actor_label,
                    reason=_(
                        "Written off: unpaid %(days)d day(s) after its due date %(due)s (the bank "
                        "account's days to write off)"
                    )
                    % {"days": days, "due": charge.due_date.strftime("%d/%m/%Y")},
                )
                written += 1
    return written
