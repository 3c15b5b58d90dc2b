"""Deciding, from a gateway's listing, whether a charge whose answer was lost is there.

Pure and shared by every adapter that can list charges (Juno today): the adapter reads its
listing, every page of it, and hands it here with what was sent. The rules, in order:

1. A listed charge carrying our reference is ours: FOUND (every installment of a carnê carries it).
2. A listing not read to its end proves nothing: CANDIDATES.
3. Every charge in the window carries a reference and none is ours: PROVED_ABSENT, the only
   outcome that allows sending the charge again.
4. Charges without a reference are compared on what they carry (amount, due date, payer document,
   description, installments). One that carries a different value is someone else's. One that
   carries the amount and the payer's document, both ours, and falls on one of our due dates
   *matches*: amount and due day alone are shared by every subscriber of the same plan, so they
   never identify a boleto. When each of our due dates has exactly one remaining charge and it
   matches, those are ours: FOUND. Otherwise CANDIDATES, for staff to decide; nothing is resent
   meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from core.documents import digits
from gateways.base import ChargeRequest, IssuedCharge, LookupOutcome, LookupResult

CENT = Decimal("0.01")


def _words(text: str) -> str:
    """Descriptions compared without regard to line breaks and repeated spaces."""
    return " ".join(text.split()).casefold()


def differs(charge: IssuedCharge, request: ChargeRequest) -> bool:
    """True when something the listed charge carries is not what we sent: it is someone else's."""
    if charge.amount is not None and charge.amount.quantize(CENT) != request.amount.quantize(CENT):
        return True
    if charge.payer_document and digits(charge.payer_document) != digits(request.payer.document):
        return True
    if charge.description and _words(charge.description) != _words("\n".join(request.description_lines)):
        return True
    return charge.installments is not None and charge.installments != request.installments


def matches(charge: IssuedCharge, request: ChargeRequest, due_date: dt.date) -> bool:
    """Carries the amount and the payer's document, falls on ``due_date``, and nothing differs."""
    return (
        charge.amount is not None
        and bool(charge.payer_document)
        and charge.due_date == due_date
        and not differs(charge, request)
    )


def _by_reference(request: ChargeRequest, listed: Sequence[IssuedCharge]) -> tuple[IssuedCharge, ...]:
    ours = [c for c in listed if c.reference and c.reference == request.reference]
    return tuple(sorted(ours, key=lambda c: (c.due_date or dt.date.max, c.code)))


def _matched_installments(
    request: ChargeRequest, due_dates: Sequence[dt.date], candidates: Sequence[IssuedCharge]
) -> tuple[IssuedCharge, ...] | None:
    """One matching charge per installment, or None when any installment is ambiguous."""
    if len(candidates) != len(due_dates):
        return None
    chosen: list[IssuedCharge] = []
    for due in due_dates:
        on_day = [c for c in candidates if c.due_date == due]
        if len(on_day) != 1 or not matches(on_day[0], request, due):
            return None
        chosen.append(on_day[0])
    return tuple(chosen) if len({c.code for c in chosen}) == len(chosen) else None


def decide(
    request: ChargeRequest,
    listed: Sequence[IssuedCharge],
    *,
    due_dates: Sequence[dt.date],
    complete: bool,
) -> LookupResult:
    """The outcome for ``request`` (installments due on ``due_dates``) given the window's listing."""
    examined = len(listed)
    ours = _by_reference(request, listed)
    if ours:
        return LookupResult(
            LookupOutcome.FOUND,
            charges=ours,
            complete=complete,
            examined=examined,
            matched_by=LookupResult.REFERENCE,
        )
    unreferenced = [c for c in listed if not c.reference]
    candidates = tuple(c for c in unreferenced if not differs(c, request))
    if not complete:
        return LookupResult(
            LookupOutcome.CANDIDATES,
            candidates=candidates,
            complete=False,
            examined=examined,
            reason=str(_("The gateway's listing could not be read to its end: absence is not proved.")),
        )
    if not unreferenced:
        return LookupResult(LookupOutcome.PROVED_ABSENT, examined=examined)
    found = _matched_installments(request, due_dates, candidates)
    if found is not None:
        return LookupResult(
            LookupOutcome.FOUND,
            charges=found,
            examined=examined,
            matched_by=LookupResult.FIELDS,
        )
    return LookupResult(
        LookupOutcome.CANDIDATES,
        candidates=candidates,
        examined=examined,
        reason=str(
            _(
                "%(unreferenced)d charge(s) in the window carry no reference; %(candidates)d may be "
                "this one and none is a single clear match."
            )
        )
        % {"unreferenced": len(unreferenced), "candidates": len(candidates)},
    )
