"""Mycontas servicoweb behind the :class:`gateways.base.Gateway` interface.

Mycontas offers one call: a form POST that registers a charge and answers with an HTML page. It
has no look-up, no cancel, no payment query and no balance; those raise
:class:`OperationUnsupported` with a message that tells staff what to do instead. The charge's
number and page arrive later in the return POST (:func:`parse_notification`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import NoReturn

from django.utils.translation import gettext_lazy as _

from core.dates import today
from core.documents import digits
from gateways.base import (
    MYCONTAS,
    TAGS_UNTOUCHED,
    AccountConfig,
    ChargeRequest,
    DescriptionRules,
    ExchangeRecorder,
    GatewayAnswerInvalid,
    GatewayRejected,
    InboundNotification,
    IssuedCharge,
    IssueResult,
    Listing,
    LookupResult,
    NotificationInvalid,
    OperationUnsupported,
    Payer,
    PaymentDetails,
    RequestInvalid,
)
from gateways.http import FormPoster, HttpAnswer, is_throttling_message, throttled
from gateways.mycontas import page, rules

SECRET_FIELDS = ("txtCod_senha",)
TEST_ACCOUNT_CODE = "1234567890ABCDEFGHIJ"
TEST_PASSWORD = "teste123"  # noqa: S105 - the manual's public test credentials
MAX_DESCRIPTION_LINES = 5
#: txtDescricao1..5, 80 characters each; Mycontas replaces the tags itself, installment by
#: installment (manual, section 5), so they are sent as written.
DESCRIPTION_RULES = DescriptionRules(
    max_lines=MAX_DESCRIPTION_LINES,
    max_line_chars=rules.MAX_DESCRIPTION_CHARS,
    tags=TAGS_UNTOUCHED,
    carne_tags=True,
)


def cents(value: Decimal) -> str:
    """Money as an integer number of cents (since v1.1): R$ 1.234,56 → ``123456``."""
    return str(int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def percent_integer(value: Decimal) -> str:
    """A percentage as the manual's integer with two implied places: 2,00 % → ``200``.

    Only two places survive: a daily 0.033 % is sent as ``3`` (0.03 %). The manual's example for
    cards (1,23 % → 123) is the only statement of the format.
    """
    return str(int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def address(payer: Payer) -> str:
    """``txtEndereco`` is one line: "street, number - complement"."""
    street = ", ".join(part for part in (payer.street.strip(), payer.number.strip()) if part)
    return " - ".join(part for part in (street, payer.complement.strip()) if part)


def _description_fields(lines: tuple[str, ...]) -> dict[str, str]:
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1]:
        kept.pop()
    if len(kept) > MAX_DESCRIPTION_LINES:
        raise RequestInvalid(
            str(_("Parameter table: Mycontas has 5 description lines; this charge has %(n)d."))
            % {"n": len(kept)}
        )
    return {f"txtDescricao{i}": line for i, line in enumerate(kept, start=1)}


def _late_fields(config: AccountConfig) -> dict[str, str]:
    fields: dict[str, str] = {"txtAtraso": str(max(int(config.max_overdue_days), 0))}
    if config.fine_percent > 0:
        fields.update(txtMulta=percent_integer(config.fine_percent), txtTipoMulta="%")
    if config.daily_interest_percent > 0:
        fields.update(txtJuros=percent_integer(config.daily_interest_percent), txtTipoJuros="%")
    return fields


def _payer_fields(config: AccountConfig, payer: Payer) -> dict[str, str]:
    fields = {
        "txtNome": payer.name.strip(),
        "txtCPF_CNPJ": digits(payer.document),
        "txtEndereco": address(payer),
        "txtBairro": payer.neighborhood.strip(),
        "txtCep": digits(payer.postcode),
        "txtCidade": payer.city.strip(),
        "txtEstado": payer.state.strip().upper(),
        "txtTelefone1": payer.phone.strip(),
    }
    if config.pass_customer_email and payer.email:
        fields["txtEmail"] = payer.email.strip()
    return {name: value for name, value in fields.items() if value}


def issue_form(config: AccountConfig, request: ChargeRequest) -> dict[str, str]:
    """Every parameter this product fills, formatted as the manual says."""
    form = {
        "txtCod_cliente": config.account_code,
        "txtCod_senha": config.password,
        "txtTipoCobranca": "B",
        "txtVencimento": request.due_date.isoformat(),
        "rdContraApresentacao": "S" if config.contra_apresentacao else "N",
        "txtParcelasCarne": str(request.installments),
        "txtUltimoDia": "S" if request.last_day_of_month else "N",
        "txtValor": cents(request.amount),
        "rdValorSacado": "N",
        **_description_fields(request.description_lines),
        **_late_fields(config),
        "txtReferencia": request.reference,
        **_payer_fields(config, request.payer),
        "txtTipoRemessa": "1",
    }
    return form


def check_form(form: Mapping[str, str], *, on: dt.date | None = None) -> None:
    """Rules 1–10 before sending: the first violation (all of them in the message) stops the call."""
    problems = rules.violations(form, today=on or today())
    if problems:
        raise RequestInvalid(" ".join(problems))


class MycontasGateway:
    """One Mycontas account: issue only; everything else is done by staff in the Mycontas panel."""

    name = MYCONTAS
    supports_lookup = False
    #: Options the gateway can honour (billing refuses the others before anything is sent).
    month_end_carnes = True
    contra_apresentacao = True
    description_rules = DESCRIPTION_RULES

    def __init__(self, config: AccountConfig, *, url: str, recorder: ExchangeRecorder | None = None):
        self.config = config
        self.url = url
        self.http = FormPoster(
            MYCONTAS,
            recorder=recorder,
            account_id=config.account_id,
            secret_fields=SECRET_FIELDS,
            follow_redirects=True,
        )

    @property
    def is_test_account(self) -> bool:
        return self.config.account_code == TEST_ACCOUNT_CODE

    def issue(self, request: ChargeRequest) -> IssueResult:
        """POST the form; success means registered, the number and page come with the return POST."""
        form = issue_form(self.config, request)
        check_form(form)
        return self.http.post(
            "servicoweb",
            self.url,
            form,
            interpret=lambda answer: self._read_issue(answer, request),
            reference=request.reference,
            code_of=lambda result: result.charges[0].code if result.charges else "",
        )

    def _read_issue(self, answer: HttpAnswer, request: ChargeRequest) -> IssueResult:
        if answer.status_code >= 400:
            raise GatewayRejected(
                f"Mycontas refused the request (HTTP {answer.status_code}).",
                status_code=answer.status_code,
                raw=answer.text,
            )
        reading = page.read_page(answer.text)
        if reading.kind == page.ERROR and is_throttling_message(reading.message):
            raise throttled(answer, reading.message)
        if reading.kind == page.ERROR:
            raise GatewayRejected(reading.message or "Mycontas showed an error page.", raw=answer.text)
        if reading.kind == page.UNCLEAR:
            raise GatewayAnswerInvalid(
                "Mycontas answered with a page that is neither a success nor an error.",
                status_code=answer.status_code,
                raw=answer.text,
            )
        return IssueResult(charges=self._revealed(reading, answer, request), message=self._note(reading))

    def _revealed(
        self, reading: page.PageReading, answer: HttpAnswer, request: ChargeRequest
    ) -> tuple[IssuedCharge, ...]:
        """A título whose page shows its number becomes issued with it; carnês wait for the return."""
        if self.is_test_account or request.installments != 1 or not reading.charge_number:
            return ()
        link = reading.charge_url or (answer.url if "id=" in answer.url else "")
        return (
            IssuedCharge(
                code=reading.charge_number, reference=request.reference, due_date=request.due_date, link=link
            ),
        )

    def _note(self, reading: page.PageReading) -> str:
        if self.is_test_account:
            return str(_("Mycontas test credentials: the request was validated but nothing was registered."))
        return reading.message

    # --- what Mycontas does not offer ------------------------------------------------------------
    def _unsupported(self, what: str) -> NoReturn:
        raise OperationUnsupported(
            str(_("Mycontas offers no %(what)s call: do it in the Mycontas panel.")) % {"what": what}
        )

    def cancel(self, code: str) -> None:
        raise OperationUnsupported(
            str(
                _(
                    "Mycontas offers no cancel call: charge %(code)s is cancelled here only; cancel it "
                    "in the Mycontas panel too."
                )
            )
            % {"code": code}
        )

    def fetch_payment(self, payment_token: str) -> PaymentDetails:
        self._unsupported("payment query")

    def find_charges(
        self, *, reference: str | None, due_from: dt.date, due_to: dt.date
    ) -> list[IssuedCharge]:
        self._unsupported("charge look-up")

    def look_up(self, request: ChargeRequest, *, due_dates: tuple[dt.date, ...]) -> LookupResult:
        self._unsupported("charge look-up")

    def list_due(self, *, due_from: dt.date, due_to: dt.date) -> Listing:
        self._unsupported("charge listing")

    def list_paid_charges(self, *, paid_from: dt.date, paid_to: dt.date) -> list[IssuedCharge]:
        self._unsupported("paid-charge listing")

    def parse_notification(self, form: Mapping[str, str]) -> InboundNotification:
        return parse_notification(form)


def parse_notification(form: Mapping[str, str]) -> InboundNotification:
    """The return POST: every request parameter plus ``txtUrl`` and ``cobrancaID``/``txtNumero``.

    Only presence is checked here; billing compares the credentials with the account's.
    """
    values = {name: str(form.get(name) or "").strip() for name in form}
    number = values.get("cobrancaID") or values.get("txtNumero") or ""
    required = str(_("This field is required."))
    errors = {
        name: required
        for name, value in (
            ("cobrancaID", number),
            ("txtReferencia", values.get("txtReferencia", "")),
            ("txtCod_cliente", values.get("txtCod_cliente", "")),
            ("txtCod_senha", values.get("txtCod_senha", "")),
        )
        if not value
    }
    if errors:
        raise NotificationInvalid(str(_("The Mycontas return lacks required fields.")), errors)
    return InboundNotification(
        gateway=MYCONTAS,
        charge_number=number,
        charge_url=values.get("txtUrl", ""),
        charge_reference=values["txtReferencia"],
        account_code=values["txtCod_cliente"],
        password=values["txtCod_senha"],
    )
