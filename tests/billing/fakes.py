"""An in-memory gateway for service tests: counts what it was sent and fails on demand."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from gateways.base import (
    ChargeRequest,
    GatewayError,
    IssuedCharge,
    IssueResult,
    PaymentDetails,
)

_codes = itertools.count(1000)


@dataclass
class FakeGateway:
    name: str = "juno"
    supports_lookup: bool = True
    issued: dict[str, list[IssuedCharge]] = field(default_factory=dict)
    issue_calls: int = 0
    cancelled: list[str] = field(default_factory=list)
    fail_next: list[GatewayError] = field(default_factory=list)
    create_then_fail: bool = False  # the charge is created, then the answer is lost

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def issue(self, request: ChargeRequest) -> IssueResult:
        self.issue_calls += 1
        charges = []
        for n in range(request.installments):
            due = request.due_date + dt.timedelta(days=30 * n)
            code = str(next(_codes))
            charges.append(
                IssuedCharge(
                    code=code,
                    reference=request.reference,
                    due_date=due,
                    link=f"https://boleto.example/{code}",
                    linha_digitavel="0" * 47,
                    installment_link="https://boleto.example/carne" if request.installments > 1 else "",
                )
            )
        if self.create_then_fail:
            self.issued.setdefault(request.reference, []).extend(charges)
        self._maybe_fail()
        self.issued.setdefault(request.reference, []).extend([] if self.create_then_fail else charges)
        return IssueResult(charges=tuple(charges))

    def cancel(self, code: str) -> None:
        self._maybe_fail()
        self.cancelled.append(code)

    def fetch_payment(self, payment_token: str) -> PaymentDetails:  # pragma: no cover - unused here
        raise NotImplementedError

    def find_charges(self, *, reference, due_from, due_to):
        self._maybe_fail()
        return [c for c in self.issued.get(reference, []) if due_from <= c.due_date <= due_to]

    def list_paid_charges(self, *, paid_from, paid_to):  # pragma: no cover - unused here
        return []

    def fetch_balance(self):  # pragma: no cover
        return {}

    def parse_notification(self, form):  # pragma: no cover
        raise NotImplementedError
