"""An in-memory gateway for service tests: counts what it was sent and fails on demand."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from decimal import Decimal

from billing.services.dates import add_months
from gateways.base import (
    ChargeRequest,
    GatewayError,
    IssuedCharge,
    IssueResult,
    Listing,
    LookupResult,
    PaymentDetails,
)
from gateways.lookup import decide

_codes = itertools.count(1000)
CARNE_LINK = "https://www.boletobancario.com/boletofacil/installment/carne"


@dataclass
class FakeGateway:
    name: str = "juno"
    supports_lookup: bool = True
    issued: dict[str, list[IssuedCharge]] = field(default_factory=dict)
    issue_calls: int = 0
    cancelled: list[str] = field(default_factory=list)
    fail_next: list[GatewayError] = field(default_factory=list)
    create_then_fail: bool = False  # the charge is created, then the answer is lost
    lists_references: bool = True  # False: listings carry no reference, as the SDK fixtures show
    others: list[IssuedCharge] = field(default_factory=list)  # someone else's charges, also listed
    listing_complete: bool = True
    answer_due_shift: int = 0  # the gateway answers due dates this many days later than asked
    answer_amount: Decimal | None = None  # the gateway answers this amount instead of the one asked
    lookups: int = 0
    note: str = ""  # what the gateway says besides the charges (IssueResult.message)
    requests: list[ChargeRequest] = field(default_factory=list)  # every issue request, as sent
    link_site: str = ""  # where its links point instead of the gateway's own https site (a forged answer)

    @property
    def site(self) -> str:
        """Where its boleto pages live (links elsewhere are refused as not the gateway's own)."""
        return self.link_site or "https://www.boletobancario.com/boletofacil"

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def issue(self, request: ChargeRequest) -> IssueResult:
        self.issue_calls += 1
        self.requests.append(request)
        charges = []
        for n in range(request.installments):
            due = add_months(request.due_date, n) + dt.timedelta(days=self.answer_due_shift)
            code = str(next(_codes))
            charges.append(
                IssuedCharge(
                    code=code,
                    reference=request.reference,
                    due_date=due,
                    link=f"{self.site}/charge/{code}",
                    linha_digitavel="0" * 47,
                    installment_link=f"{self.site}/installment/carne" if request.installments > 1 else "",
                    amount=self.answer_amount if self.answer_amount is not None else request.amount,
                    payer_document=request.payer.document,
                )
            )
        if self.create_then_fail:
            self.issued.setdefault(request.reference, []).extend(charges)
        self._maybe_fail()
        self.issued.setdefault(request.reference, []).extend([] if self.create_then_fail else charges)
        return IssueResult(charges=tuple(charges), message=self.note)

    def cancel(self, code: str) -> None:
        self._maybe_fail()
        self.cancelled.append(code)

    def fetch_payment(self, payment_token: str) -> PaymentDetails:  # pragma: no cover - unused here
        raise NotImplementedError

    def find_charges(self, *, reference, due_from, due_to):
        self._maybe_fail()
        return [c for c in self.issued.get(reference, []) if due_from <= c.due_date <= due_to]

    def list_due(self, *, due_from, due_to) -> Listing:
        self._maybe_fail()
        mine = [c for charges in self.issued.values() for c in charges]
        listed = [
            c if self.lists_references else replace(c, reference="")
            for c in [*mine, *self.others]
            if c.due_date and due_from <= c.due_date <= due_to
        ]
        return Listing(charges=tuple(listed), complete=self.listing_complete)

    def look_up(self, request: ChargeRequest, *, due_dates) -> LookupResult:
        self.lookups += 1
        listing = self.list_due(
            due_from=min(due_dates) - dt.timedelta(days=1), due_to=max(due_dates) + dt.timedelta(days=4)
        )
        return decide(request, listing.charges, due_dates=due_dates, complete=listing.complete)

    def list_paid_charges(self, *, paid_from, paid_to):  # pragma: no cover - unused here
        return []

    def parse_notification(self, form):  # pragma: no cover
        raise NotImplementedError
