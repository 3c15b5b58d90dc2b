"""Asaas (API v3) behind the :class:`gateways.base.Gateway` interface.

A charge is an Asaas *payment* (a carnê an installment plan: one payment per installment); its id
(``pay_...``) is our charge code and our reference travels as ``externalReference``. The boleto's
linha digitável and the PIX QR code are separate reads, made right after the payment exists.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from django.utils.translation import gettext_lazy as _

from core.documents import digits
from gateways.asaas import client
from gateways.base import (
    ASAAS,
    AccountConfig,
    ChargeRequest,
    DescriptionRules,
    ExchangeRecorder,
    GatewayAnswerInvalid,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    InboundNotification,
    IssuedCharge,
    IssueResult,
    Listing,
    LookupOutcome,
    LookupResult,
    NotificationEvent,
    NotificationInvalid,
    Payer,
    PaymentDetails,
)
from gateways.http import JsonClient

#: Asaas' payment events and what each means here; any other event is stored and left alone.
EVENTS = {
    "PAYMENT_RECEIVED": NotificationEvent.PAID,
    "PAYMENT_CONFIRMED": NotificationEvent.PAID,
    "PAYMENT_REFUNDED": NotificationEvent.REFUNDED,
    "PAYMENT_PARTIALLY_REFUNDED": NotificationEvent.REFUNDED,
    "PAYMENT_DELETED": NotificationEvent.DELETED,
    "PAYMENT_OVERDUE": NotificationEvent.OVERDUE,
}


class AsaasGateway:
    """One Asaas account (production or sandbox, as the base URL given says) over JSON."""

    name = ASAAS
    supports_lookup = True
    month_end_carnes = False
    contra_apresentacao = True
    #: One description for every installment of a plan: no tags in a carnê.
    description_rules = DescriptionRules(max_chars=client.MAX_DESCRIPTION_CHARS, carne_tags=False)

    def __init__(self, config: AccountConfig, *, base_url: str, recorder: ExchangeRecorder | None = None):
        self.config = config
        self.base_url = base_url.rstrip("/") + "/"
        self.http = JsonClient(
            ASAAS,
            recorder=recorder,
            account_id=config.account_id,
            headers={client.API_KEY_HEADER: config.token, "User-Agent": client.USER_AGENT},
            secret_headers=(client.API_KEY_HEADER,),
        )

    # --- plumbing --------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        reference: str = "",
        code: str = "",
        endpoint: str = "",
    ) -> Mapping[str, Any]:
        """One call; ``endpoint`` names it in the exchange log when ``path`` holds an id."""
        return self.http.request(
            method,
            endpoint or path,
            self.base_url + path,
            query=query,
            body=body,
            interpret=client.read,
            reference=reference,
            code_of=lambda _result: code,
        )

    def _pages(
        self, path: str, query: Mapping[str, str], *, reference: str = ""
    ) -> Iterator[Mapping[str, Any]]:
        """Every object of a list, page after page; proving absence means reading them all."""
        offset = 0
        for _page in range(client.MAX_PAGES):
            body = self._call(
                "GET",
                path,
                query={**query, "offset": str(offset), "limit": str(client.PAGE_SIZE)},
                reference=reference,
            )
            items, has_more = client.page(body)
            yield from items
            if not has_more:
                return
            if not items:
                raise GatewayAnswerInvalid("Asaas said more pages follow but sent an empty one.")
            offset += len(items)
        raise GatewayAnswerInvalid(
            f"Asaas' list has more than {client.MAX_PAGES * client.PAGE_SIZE} entries; not read."
        )

    # --- issue -----------------------------------------------------------------------------------
    def issue(self, request: ChargeRequest) -> IssueResult:
        """The payer's customer (found or registered), then one payment or an installment plan.

        Nothing is created when our checks refuse the request. Errors before the payment call
        leave no charge (``maybe_sent=False``); once the payment call may have reached Asaas, any
        later failure says the charge may exist, so billing looks it up before sending again.
        """
        client.check_config(self.config)
        client.check_request(request)
        client.description(request.description_lines)  # its limit, before anyone is registered
        customer_id = self._customer_for(request.payer, reference=request.reference)
        body = client.payment_payload(self.config, request, customer_id)
        first = self._call("POST", "payments", body=body, reference=request.reference)
        try:
            client.payment_id(first)
            payments = [first]
            plan = client.text(first.get("installment"))
            if request.installments > 1:
                if not plan:
                    raise GatewayAnswerInvalid("Asaas created no installment plan for a carnê.")
                payments = sorted(
                    self._pages("payments", {"installment": plan}, reference=request.reference),
                    key=client.installment_order,
                )
                if len(payments) != request.installments:
                    raise GatewayAnswerInvalid(
                        f"Asaas holds {len(payments)} payments for {request.installments} installments."
                    )
            charges = tuple(self._with_details(payment, reference=request.reference) for payment in payments)
        except GatewayError as exc:
            raise _charge_may_exist(exc, code_hint=client.text(first.get("id"))) from exc
        return IssueResult(charges=charges, customer_id=customer_id)

    def _customer_for(self, payer: Payer, *, reference: str) -> str:
        """The payer's Asaas customer: the one billing knows, else one with this CPF/CNPJ, else a new one.

        Looking the document up first means a registration whose answer was lost is found, not
        repeated. No payment exists yet, so a failure here never leaves a charge behind.
        """
        if payer.gateway_customer_id:
            return payer.gateway_customer_id
        try:
            document = digits(payer.document)
            for customer in self._pages("customers", {"cpfCnpj": document}, reference=reference):
                if (
                    customer.get("deleted") is not True
                    and digits(client.text(customer.get("cpfCnpj"))) == document
                ):
                    return client.payment_id(customer)
            created = self._call(
                "POST", "customers", body=client.customer_payload(self.config, payer), reference=reference
            )
            return client.payment_id(created)
        except GatewayUnavailable as exc:
            exc.maybe_sent = False  # about the charge: its payment was never sent
            raise
        except GatewayAnswerInvalid as exc:
            raise GatewayUnavailable(
                str(_("Asaas' customer answer could not be read; nothing was charged: %(error)s"))
                % {"error": exc.message},
                maybe_sent=False,
                status_code=exc.status_code,
                raw=exc.raw,
            ) from exc

    def _with_details(self, payment: Mapping[str, Any], *, reference: str = "") -> IssuedCharge:
        """The payment plus its linha digitável and PIX QR code (each absent when Asaas has none)."""
        code = client.payment_id(payment)
        if payment.get("deleted") is True:
            return client.parse_charge(payment)
        identification = self._optional("identificationField", code, reference)
        pix = self._optional("pixQrCode", code, reference)
        return client.parse_charge(payment, identification=identification, pix=pix)

    def _optional(self, detail: str, code: str, reference: str) -> Mapping[str, Any]:
        """A detail read: refused (4xx: e.g. no boleto for this billing type) means absent."""
        try:
            return self._call(
                "GET",
                f"payments/{quote(code, safe='')}/{detail}",
                reference=reference,
                code=code,
                endpoint=f"payments/{detail}",
            )
        except GatewayRejected:
            return {}

    # --- other calls -----------------------------------------------------------------------------
    def cancel(self, code: str) -> None:
        """``DELETE /payments/{id}``; one installment at a time. An already deleted payment is fine.

        A lost answer retried gets 404: the payment is then read, and only if Asaas shows it
        deleted is the cancel taken as done.
        """
        path = f"payments/{quote(code, safe='')}"
        try:
            answer = self._call("DELETE", path, code=code, endpoint="payments/delete")
        except GatewayRejected as exc:
            if exc.status_code != 404:
                raise
            try:
                current = self._call("GET", path, code=code, endpoint="payments/get")
            except GatewayRejected:
                raise exc from None
            if current.get("deleted") is not True:
                raise
            return
        if answer.get("deleted") is not True:
            raise GatewayAnswerInvalid("Asaas did not confirm the deletion.", raw=str(dict(answer)))

    def fetch_payment(self, payment_token: str) -> PaymentDetails:
        """``GET /payments/{id}``: the only trusted word on a webhook (its body is a hint)."""
        body = self._call(
            "GET", f"payments/{quote(payment_token, safe='')}", code=payment_token, endpoint="payments/get"
        )
        return client.parse_payment(body)

    def find_charges(
        self, *, reference: str | None, due_from: dt.date, due_to: dt.date
    ) -> list[IssuedCharge]:
        """By ``externalReference`` (every page, whatever the due date) or, without one, by due window.

        With a reference, installment plans are read whole and each payment comes with its linha
        digitável and PIX QR code: this is the look-up that may adopt a charge. Without one, the
        window's payments come as they are (no detail reads).
        """
        if reference is None:
            query = {"dueDate[ge]": client.date(due_from), "dueDate[le]": client.date(due_to)}
            return [client.parse_charge(p) for p in self._pages("payments", query)]
        found: dict[str, Mapping[str, Any]] = {}
        for payment in self._pages("payments", {"externalReference": reference}, reference=reference):
            found[client.payment_id(payment)] = payment
        plans = {client.text(p.get("installment")) for p in found.values()} - {""}
        for plan in sorted(plans):
            for payment in self._pages("payments", {"installment": plan}, reference=reference):
                found.setdefault(client.payment_id(payment), payment)
        ordered = sorted(
            found.values(),
            key=lambda p: (client.parse_date(p.get("dueDate")) or dt.date.max, client.installment_order(p)),
        )
        return [self._with_details(p, reference=reference) for p in ordered]

    def look_up(self, request: ChargeRequest, *, due_dates: tuple[dt.date, ...]) -> LookupResult:
        """Whether Asaas holds ``request``: Asaas filters by ``externalReference`` itself.

        We send our reference on every payment, and every page of the filtered list is read (an
        unreadable or endless one raises, proving nothing): an empty answer proves absence,
        whatever the due dates, so no window and no field matching are needed.
        """
        found = self.find_charges(
            reference=request.reference, due_from=request.due_date, due_to=request.due_date
        )
        if not found:
            return LookupResult(outcome=LookupOutcome.PROVED_ABSENT, complete=True, examined=0)
        return LookupResult(
            outcome=LookupOutcome.FOUND,
            charges=tuple(found),
            complete=True,
            examined=len(found),
            matched_by=LookupResult.REFERENCE,
        )

    def list_due(self, *, due_from: dt.date, due_to: dt.date) -> Listing:
        """Every payment due in the window (every page read; deleted ones are not listed by Asaas)."""
        return Listing(charges=tuple(self.find_charges(reference=None, due_from=due_from, due_to=due_to)))

    def list_paid_charges(self, *, paid_from: dt.date, paid_to: dt.date) -> list[IssuedCharge]:
        query = {"paymentDate[ge]": client.date(paid_from), "paymentDate[le]": client.date(paid_to)}
        return [client.parse_charge(p) for p in self._pages("payments", query)]

    # --- inbound ---------------------------------------------------------------------------------
    def parse_notification(self, form: Mapping[str, Any]) -> InboundNotification:
        return parse_notification(form)

    def token_matches(self, given: str | None) -> bool:
        return token_matches(given, self.config.webhook_token)


def _charge_may_exist(exc: GatewayError, *, code_hint: str) -> GatewayError:
    """After the payment call succeeded, no error may read as "nothing was created"."""
    if isinstance(exc, GatewayUnavailable):
        exc.maybe_sent = True
        return exc
    if isinstance(exc, GatewayAnswerInvalid):
        return exc
    return GatewayAnswerInvalid(
        str(_("Asaas created payment %(code)s but a later read failed: %(error)s"))
        % {"code": code_hint or "?", "error": exc.message},
        status_code=exc.status_code,
        raw=exc.raw,
    )


def token_matches(given: str | None, expected: str) -> bool:
    """The webhook's ``asaas-access-token`` against the account's, in constant time.

    No configured token means no webhook is accepted: an account must set one to receive them.
    """
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def parse_notification(body: Mapping[str, Any]) -> InboundNotification:
    """A webhook body (decoded JSON): the event and the payment it names, as hints to verify.

    ``event_id`` is Asaas' event id (``evt_...``); bodies without one get ``event:payment id``,
    which still applies each kind of event once per payment. Asaas sends every one of these fields
    as a JSON string: anything else (a number, an object) is malformed, not read as text.
    """
    errors: dict[str, str] = {}
    required = str(_("This field is required."))
    not_text = str(_("Must be a JSON string."))
    event = body.get("event") if isinstance(body, Mapping) else None
    payment = body.get("payment") if isinstance(body, Mapping) else None
    if event is not None and not isinstance(event, str):
        errors["event"] = not_text
    elif not client.text(event):
        errors["event"] = required
    payment_id = payment.get("id") if isinstance(payment, Mapping) else None
    if payment_id is not None and not isinstance(payment_id, str):
        errors["payment.id"] = not_text
    elif not client.text(payment_id):
        errors["payment.id"] = required
    optional = {
        "id": body.get("id") if isinstance(body, Mapping) else None,
        "payment.externalReference": payment.get("externalReference")
        if isinstance(payment, Mapping)
        else None,
    }
    errors.update({name: not_text for name, value in optional.items() if not isinstance(value, str | None)})
    if errors:
        message = (
            _("Some fields are malformed.")
            if not_text in errors.values()
            else _("The webhook names no event or no payment.")
        )
        raise NotificationInvalid(str(message), errors)
    assert isinstance(payment, Mapping)
    event = client.text(event)
    code = client.text(payment_id)
    return InboundNotification(
        gateway=ASAAS,
        payment_token=code,
        charge_code=code,
        charge_reference=client.text(payment.get("externalReference")),
        event_id=client.text(body.get("id")) or f"{event}:{code}",
        event=EVENTS.get(event, NotificationEvent.OTHER),
        gateway_event=event,
    )
