"""Juno / Boleto Fácil (integration API v1) behind the :class:`gateways.base.Gateway` interface."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from gateways.base import (
    JUNO,
    AccountConfig,
    ChargeRequest,
    ExchangeRecorder,
    GatewayAnswerInvalid,
    InboundNotification,
    IssuedCharge,
    IssueResult,
    Listing,
    LookupResult,
    NotificationInvalid,
    PaymentDetails,
)
from gateways.http import FormPoster, HttpAnswer
from gateways.juno import client
from gateways.lookup import decide

SECRET_FIELDS = ("token",)
MASKED_FIELDS = ("paymentToken",)
#: A listing longer than this many pages is not read to its end (and so proves nothing).
MAX_PAGES = 50
#: Days around our due dates a look-up lists: a due date the gateway moved to a business day
#: (up to a long weekend later) still falls inside.
LOOKUP_DAYS_BEFORE, LOOKUP_DAYS_AFTER = 1, 4


class JunoGateway:
    """One Juno account (production or sandbox, as its config says) over form POSTs."""

    name = JUNO
    supports_lookup = True
    #: Options the gateway can honour (billing refuses the others before anything is sent).
    month_end_carnes = False
    contra_apresentacao = False
    description_rules = client.DESCRIPTION_RULES

    def __init__(self, config: AccountConfig, *, base_url: str, recorder: ExchangeRecorder | None = None):
        self.config = config
        self.base_url = base_url.rstrip("/") + "/"
        self.http = FormPoster(
            JUNO,
            recorder=recorder,
            account_id=config.account_id,
            secret_fields=SECRET_FIELDS,
            masked_fields=MASKED_FIELDS,
        )

    # --- calls -----------------------------------------------------------------------------------
    def _call(self, endpoint: str, params: dict[str, str], *, reference: str = "", code: str = "") -> Any:
        """POST one endpoint and return its ``data`` (JSON answers are asked for on every call)."""
        return self.http.post(
            endpoint,
            self.base_url + endpoint,
            {**params, "responseType": "JSON"},
            interpret=client.parse_envelope,
            reference=reference,
            code_of=lambda _data: code,
        )

    def issue(self, request: ChargeRequest) -> IssueResult:
        """One ``issue-charge``: a título or a whole carnê (``installments=N``, N codes back)."""
        params = client.issue_params(self.config, request)

        def read(answer: HttpAnswer) -> list[IssuedCharge]:
            charges = client.parse_charges(client.parse_envelope(answer), required=True)
            if len(charges) != request.installments:
                raise GatewayAnswerInvalid(
                    f"Juno returned {len(charges)} charges for {request.installments} installments.",
                    raw=answer.text,
                )
            return charges

        charges = self.http.post(
            "issue-charge",
            self.base_url + "issue-charge",
            params,
            interpret=read,
            reference=request.reference,
            code_of=lambda found: ",".join(c.code for c in found),
        )
        return IssueResult(charges=tuple(charges))

    def cancel(self, code: str) -> None:
        """``cancel-charge`` for one code; a carnê is cancelled one installment at a time."""
        self._call("cancel-charge", {"token": self.config.token, "code": code}, code=code)

    def fetch_payment(self, payment_token: str) -> PaymentDetails:
        """``fetch-payment-details``: the only trusted word on a notification (no account token)."""

        def read(answer: HttpAnswer) -> PaymentDetails:
            data = client.parse_envelope(answer)
            payment = data.get("payment") if isinstance(data, Mapping) else None
            if not isinstance(payment, Mapping):
                raise GatewayAnswerInvalid("Juno's payment details have no payment.")
            return client.parse_payment(payment)

        return self.http.post(
            "fetch-payment-details",
            self.base_url + "fetch-payment-details",
            {"paymentToken": payment_token, "responseType": "JSON"},
            interpret=read,
            code_of=lambda payment: payment.charge_code,
        )

    def _list(self, params: dict[str, str], *, reference: str = "") -> Listing:
        """``list-charges`` with ``params``, following every page an answer announces."""
        charges: list[IssuedCharge] = []
        complete = True
        page: int | None = 1
        while page is not None:
            if page > MAX_PAGES:
                complete = False
                break
            paged = {**params, "page": str(page)} if page > 1 else params
            read = client.parse_page(self._call("list-charges", paged, reference=reference), page)
            charges.extend(read.charges)
            complete = complete and read.readable
            page = read.next_page
        ordered = sorted(charges, key=lambda c: (c.due_date or dt.date.max, c.code))
        return Listing(charges=tuple(ordered), complete=complete)

    def list_due(self, *, due_from: dt.date, due_to: dt.date, reference: str = "") -> Listing:
        """Every charge due in the window (both ends included), every page read."""
        return self._list(
            {
                "token": self.config.token,
                "beginDueDate": client.date(due_from),
                "endDueDate": client.date(due_to),
            },
            reference=reference,
        )

    def find_charges(
        self, *, reference: str | None, due_from: dt.date, due_to: dt.date
    ) -> list[IssuedCharge]:
        """Charges due in the window; the API has no reference filter, so it is applied here."""
        listing = self.list_due(due_from=due_from, due_to=due_to, reference=reference or "")
        return [c for c in listing.charges if reference is None or c.reference == reference]

    def look_up(self, request: ChargeRequest, *, due_dates: tuple[dt.date, ...]) -> LookupResult:
        """Whether Juno holds ``request``: by reference, else by what reference-less charges carry.

        The API cannot filter by reference, and answers may carry no ``reference`` at all (the
        SDK fixtures show none), so absence is concluded only as :func:`gateways.lookup.decide`
        allows: every page read, every charge in the window carrying a reference, none ours.
        """
        dates = tuple(sorted(due_dates)) or (request.due_date,)
        listing = self.list_due(
            due_from=dates[0] - dt.timedelta(days=LOOKUP_DAYS_BEFORE),
            due_to=dates[-1] + dt.timedelta(days=LOOKUP_DAYS_AFTER),
            reference=request.reference,
        )
        return decide(request, listing.charges, due_dates=dates, complete=listing.complete)

    def list_paid_charges(self, *, paid_from: dt.date, paid_to: dt.date) -> list[IssuedCharge]:
        listing = self._list(
            {
                "token": self.config.token,
                "beginPaymentDate": client.date(paid_from),
                "endPaymentDate": client.date(paid_to),
            }
        )
        if not listing.complete:  # a payment left unread would look missing at the gateway
            raise GatewayAnswerInvalid("Juno's listing of paid charges could not be read to its end.")
        return list(listing.charges)

    # --- inbound ---------------------------------------------------------------------------------
    def parse_notification(self, form: Mapping[str, str]) -> InboundNotification:
        """The unsigned POST Juno sends on payment events: only a hint to ask fetch-payment-details."""
        return parse_notification(form)


def parse_notification(form: Mapping[str, str]) -> InboundNotification:
    token = str(form.get("paymentToken") or "").strip()
    if not token:
        raise NotificationInvalid(
            str(_("The notification has no payment token.")),
            {"paymentToken": str(_("This field is required."))},
        )
    return InboundNotification(
        gateway=JUNO,
        payment_token=token,
        charge_reference=str(form.get("chargeReference") or "").strip(),
        charge_code=str(form.get("chargeCode") or "").strip(),
    )
