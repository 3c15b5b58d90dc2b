"""Canonical request/response pairs of both contracts, in one place.

The adapters must produce exactly these requests and read these answers; the simulators must
accept these requests and answer in these shapes (see test_contract.py). When a contract changes,
change it here first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateways.base import AccountConfig, ChargeRequest, Payer

# --- Juno ----------------------------------------------------------------------------------------
DUE = dt.date(2099, 1, 10)  # far ahead: the simulator refuses past due dates

JUNO_CONFIG = AccountConfig(
    gateway="juno",
    sandbox=True,
    token="SANDBOX-TOKEN-EXAMPLE-1234",
    notification_url="https://isp.example.com/api/notifications/juno/3f2a/",
    pass_customer_email=True,
    max_overdue_days=15,
    fine_percent=Decimal("2.00"),
    daily_interest_percent=Decimal("0.033"),
)

PAYER = Payer(
    name="João da Silva",
    document="529.982.247-25",
    email="joao@example.com",
    phone="(16)1234.5678",
    street="Rua do Rio",
    number="127",
    complement="casa 2",
    neighborhood="Jardim das Vilas",
    city="São Carlos",
    state="SP",
    postcode="13560-000",
)

JUNO_CARNE_REQUEST = ChargeRequest(
    reference="C-00AA11BB22CC33DD",
    amount=Decimal("89.90"),
    due_date=DUE,
    description_lines=("Internet 100 Mb", "Parcela [PARCELA] já expandida: 1 de 3"),
    payer=PAYER,
    installments=3,
)

JUNO_CARNE_PARAMS = {
    "token": "SANDBOX-TOKEN-EXAMPLE-1234",
    "responseType": "JSON",
    "description": "Internet 100 Mb\nParcela [PARCELA] já expandida: 1 de 3",
    "reference": "C-00AA11BB22CC33DD",
    "amount": "89.90",
    "dueDate": "10/01/2099",
    "installments": "3",
    "maxOverdueDays": "15",
    "fine": "2.00",
    "interest": "0.99",  # 0.033 % a day × 30
    "payerName": "João da Silva",
    "payerCpfCnpj": "52998224725",
    "paymentTypes": "BOLETO",
    "notifyPayer": "true",
    "notificationUrl": "https://isp.example.com/api/notifications/juno/3f2a/",
    "payerEmail": "joao@example.com",
    "payerPhone": "(16)1234.5678",
    "billingAddressStreet": "Rua do Rio",
    "billingAddressNumber": "127",
    "billingAddressComplement": "casa 2",
    "billingAddressNeighborhood": "Jardim das Vilas",
    "billingAddressCity": "São Carlos",
    "billingAddressState": "SP",
    "billingAddressPostcode": "13560000",
}

# An issue-charge answer as the SDK fixtures show it: numeric codes, dd/MM/yyyy, billetDetails.
JUNO_ISSUE_RESPONSE = {
    "success": True,
    "data": {
        "charges": [
            {
                "code": 10012345,
                "reference": "C-00AA11BB22CC33DD",
                "dueDate": "10/01/2099",
                "link": "https://sandbox.boletobancario.com/boletofacil/charge/boleto.pdf?token=abc",
                "checkoutUrl": "https://sandbox.boletobancario.com/boletofacil/checkout/abc",
                "installmentLink": "https://sandbox.boletobancario.com/boletofacil/installment/xyz",
                "payNumber": "42290.00007 00000.000000 00100.123454 3 99850000008990",
                "billetDetails": {
                    "bankAccount": "0655/46480-8",
                    "ourNumber": "176/00010012345-6",
                    "barcodeNumber": "42293998500000089900000000000000000010012345",
                    "portfolio": "9",
                },
            }
        ]
    },
}
JUNO_ISSUE_EXPECTED = {
    "code": "10012345",
    "reference": "C-00AA11BB22CC33DD",
    "due_date": DUE,
    "linha_digitavel": "42290000070000000000000100123454399850000008990",
    "barcode": "42293998500000089900000000000000000010012345",
    "bank_account": "0655/46480-8",
}
JUNO_CHARGE_KEYS = {"code", "reference", "dueDate", "link", "checkoutUrl", "payNumber", "billetDetails"}
#: Absent from the answers the SDK fixtures show at times (and from the strict simulator's).
JUNO_OPTIONAL_CHARGE_KEYS = {"reference", "checkoutUrl", "billetDetails", "installmentLink"}
#: tests.gateways.conftest.charge_request's amount, and another one nobody else bills.
JUNO_AMOUNT_OF_CHARGE_REQUEST = Decimal("50.00")
JUNO_OTHER_AMOUNT = Decimal("77.70")
JUNO_BILLET_KEYS = {"bankAccount", "ourNumber", "barcodeNumber", "portfolio"}

JUNO_ERROR_STATUS = 400
JUNO_ERROR_RESPONSE = {"success": False, "errorMessage": "Cobrança inválida"}

JUNO_PAYMENT_RESPONSE = {
    "success": True,
    "data": {
        "payment": {
            "id": 5000123,
            "amount": 89.9,
            "date": "12/01/2099",
            "fee": 1.49,
            "type": "BOLETO",
            "status": "CONFIRMED",
            "charge": {
                "code": 10012345,
                "reference": "C-00AA11BB22CC33DD",
                "amount": 89.9,
                "dueDate": "10/01/2099",
            },
        }
    },
}
JUNO_PAYMENT_EXPECTED = {
    "payment_id": "5000123",
    "amount": Decimal("89.90"),
    "date": dt.date(2099, 1, 12),
    "fee": Decimal("1.49"),
    "type": "BOLETO",
    "status": "CONFIRMED",
    "charge_code": "10012345",
    "charge_reference": "C-00AA11BB22CC33DD",
}
JUNO_PAYMENT_KEYS = {"id", "amount", "date", "fee", "type", "status", "charge"}

JUNO_NOTIFICATION_FORM = {
    "paymentToken": "8A4F0C0E4B1D9F2E7C6B5A4938271605",
    "chargeReference": "C-00AA11BB22CC33DD",
    "chargeCode": "10012345",
}

# --- Mycontas ------------------------------------------------------------------------------------
MYCONTAS_CONFIG = AccountConfig(
    gateway="mycontas",
    sandbox=False,
    account_code="KyU3Gp18fgU3TDFyidr9",
    password="senha-de-cobranca-exemplo",
    pass_customer_email=True,
    contra_apresentacao=False,
    max_overdue_days=15,
    fine_percent=Decimal("2.00"),
    daily_interest_percent=Decimal("0.033"),
)

MYCONTAS_REQUEST = ChargeRequest(
    reference="T-00AA11BB22CC33DD",
    amount=Decimal("1234.56"),
    due_date=DUE,
    description_lines=("Mensalidade de serviços", "Internet 100 Mb"),
    payer=PAYER,
)

MYCONTAS_FORM = {
    "txtCod_cliente": "KyU3Gp18fgU3TDFyidr9",
    "txtCod_senha": "senha-de-cobranca-exemplo",
    "txtTipoCobranca": "B",
    "txtVencimento": "2099-01-10",
    "rdContraApresentacao": "N",
    "txtParcelasCarne": "1",
    "txtUltimoDia": "N",
    "txtValor": "123456",  # R$ 1.234,56 in cents (manual v1.1)
    "rdValorSacado": "N",
    "txtDescricao1": "Mensalidade de serviços",
    "txtDescricao2": "Internet 100 Mb",
    "txtAtraso": "15",
    "txtMulta": "200",  # 2,00 %
    "txtTipoMulta": "%",
    "txtJuros": "3",  # 0,033 % a day keeps two places: 0,03 %
    "txtTipoJuros": "%",
    "txtReferencia": "T-00AA11BB22CC33DD",
    "txtNome": "João da Silva",
    "txtCPF_CNPJ": "52998224725",
    "txtEndereco": "Rua do Rio, 127 - casa 2",
    "txtBairro": "Jardim das Vilas",
    "txtCep": "13560000",
    "txtCidade": "São Carlos",
    "txtEstado": "SP",
    "txtTelefone1": "(16)1234.5678",
    "txtEmail": "joao@example.com",
    "txtTipoRemessa": "1",
}

MYCONTAS_RETURN_FORM = {
    **MYCONTAS_FORM,
    "txtUrl": "http://www.mycontas.com.br/cobranca/?id=9P8eyHrX3h",
    "cobrancaID": "1234",
}

# --- Asaas ---------------------------------------------------------------------------------------
ASAAS_CONFIG = AccountConfig(
    gateway="asaas",
    sandbox=True,
    token="$aact_hmlg_EXAMPLE-API-KEY-1234",
    webhook_token="webhook-token-example-5678",
    billing_type="BOLETO",
    pass_customer_email=True,
    max_overdue_days=15,
    fine_percent=Decimal("2.00"),
    daily_interest_percent=Decimal("0.033"),
)
ASAAS_CUSTOMER_ID = "cus_000005219613"

ASAAS_CUSTOMER_BODY = {
    "name": "João da Silva",
    "cpfCnpj": "52998224725",
    "notificationDisabled": False,
    "email": "joao@example.com",
    "phone": "1612345678",
    "address": "Rua do Rio",
    "addressNumber": "127",
    "complement": "casa 2",
    "province": "Jardim das Vilas",
    "postalCode": "13560000",
}

ASAAS_CARNE_REQUEST = JUNO_CARNE_REQUEST
ASAAS_CARNE_BODY = {
    "customer": ASAAS_CUSTOMER_ID,
    "billingType": "BOLETO",
    "dueDate": "2099-01-10",
    "externalReference": "C-00AA11BB22CC33DD",
    "installmentCount": 3,
    "installmentValue": Decimal("89.90"),
    "description": "Internet 100 Mb\nParcela [PARCELA] já expandida: 1 de 3",
    "fine": {"value": Decimal("2.00"), "type": "PERCENTAGE"},  # multa, once
    "interest": {"value": Decimal("0.99")},  # % a month: 0.033 % a day × 30
    "daysAfterDueDateToRegistrationCancellation": 15,
}
# As it goes on the wire: money as exact JSON numbers.
ASAAS_CARNE_JSON_FRAGMENTS = ('"installmentValue":89.90', '"fine":{"value":2.00,"type":"PERCENTAGE"}')

ASAAS_TITULO_REQUEST = ChargeRequest(
    reference="T-00AA11BB22CC33DD",
    amount=Decimal("1234.56"),
    due_date=DUE,
    description_lines=("Mensalidade de serviços", "Internet 100 Mb"),
    payer=PAYER,
)
ASAAS_TITULO_BODY = {
    "customer": ASAAS_CUSTOMER_ID,
    "billingType": "BOLETO",
    "dueDate": "2099-01-10",
    "externalReference": "T-00AA11BB22CC33DD",
    "value": Decimal("1234.56"),
    "description": "Mensalidade de serviços\nInternet 100 Mb",
    "fine": {"value": Decimal("2.00"), "type": "PERCENTAGE"},
    "interest": {"value": Decimal("0.99")},
    "daysAfterDueDateToRegistrationCancellation": 15,
}

# A payment as the API reference shows one (GET /payments/{id}, list items, webhook bodies).
ASAAS_PAYMENT_RESPONSE = {
    "object": "payment",
    "id": "pay_080225913252",
    "dateCreated": "2099-01-02",
    "customer": ASAAS_CUSTOMER_ID,
    "installment": None,
    "paymentLink": None,
    "value": 1234.56,
    "netValue": 1232.57,
    "originalValue": None,
    "interestValue": None,
    "description": "Mensalidade de serviços\nInternet 100 Mb",
    "billingType": "BOLETO",
    "canBePaidAfterDueDate": True,
    "pixTransaction": None,
    "status": "PENDING",
    "dueDate": "2099-01-10",
    "originalDueDate": "2099-01-10",
    "paymentDate": None,
    "clientPaymentDate": None,
    "installmentNumber": None,
    "invoiceUrl": "https://sandbox.asaas.com/i/080225913252",
    "invoiceNumber": "00005101",
    "externalReference": "T-00AA11BB22CC33DD",
    "deleted": False,
    "anticipated": False,
    "anticipable": False,
    "creditDate": None,
    "estimatedCreditDate": None,
    "transactionReceiptUrl": None,
    "nossoNumero": "6453",
    "bankSlipUrl": "https://sandbox.asaas.com/b/pdf/080225913252",
    "discount": {"value": 0, "limitDate": None, "dueDateLimitDays": 0, "type": "FIXED"},
    "fine": {"value": 2, "type": "PERCENTAGE"},
    "interest": {"value": 0.99, "type": "PERCENTAGE"},
    "postalService": False,
    "refunds": None,
}
ASAAS_PAYMENT_KEYS = {
    "object",
    "id",
    "customer",
    "installment",
    "value",
    "netValue",
    "billingType",
    "status",
    "dueDate",
    "paymentDate",
    "clientPaymentDate",
    "installmentNumber",
    "invoiceUrl",
    "bankSlipUrl",
    "externalReference",
    "deleted",
    "nossoNumero",
    "fine",
    "interest",
}
ASAAS_IDENTIFICATION_RESPONSE = {
    "identificationField": "46190000050000000000000000064535599850000123456",
    "nossoNumero": "6453",
    "barCode": "46195998500001234560000000000000000000006453",
}
ASAAS_PIX_RESPONSE = {
    "encodedImage": (
        "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAAAAADhZOFXAAAADklEQVR4nGP4z8DAwMAAAA0BA/8SQW3JAAAAAElFTkSuQmCC"
    ),
    "payload": (
        "00020101021226870014br.gov.bcb.pix2565qrpix.example.com/qr/v2/cobv/"
        "9d36b84f-c70b-478f-b95c-12729b90ca255204000053039865802BR5905ASAAS6009JOINVILLE"
        "62070503***63041D5B"
    ),
    "expirationDate": "2100-01-10 23:59:59",
}
ASAAS_ISSUE_EXPECTED = {
    "code": "pay_080225913252",
    "reference": "T-00AA11BB22CC33DD",
    "due_date": DUE,
    "link": "https://sandbox.asaas.com/b/pdf/080225913252",
    "checkout_url": "https://sandbox.asaas.com/i/080225913252",
    "linha_digitavel": "46190000050000000000000000064535599850000123456",
    "barcode": "46195998500001234560000000000000000000006453",
    "our_number": "6453",
    "pix_payload": ASAAS_PIX_RESPONSE["payload"],
    "pix_image": ASAAS_PIX_RESPONSE["encodedImage"],
}
ASAAS_LIST_KEYS = {"object", "hasMore", "totalCount", "limit", "offset", "data"}

ASAAS_ERROR_STATUS = 400
ASAAS_ERROR_RESPONSE = {
    "errors": [{"code": "invalid_dueDate", "description": "The due date cannot be earlier than today"}]
}

ASAAS_PAID_RESPONSE = {
    **ASAAS_PAYMENT_RESPONSE,
    "billingType": "PIX",
    "status": "RECEIVED",
    "paymentDate": "2099-01-08",
    "clientPaymentDate": "2099-01-08",
    "confirmedDate": "2099-01-08",
}
ASAAS_PAYMENT_EXPECTED = {
    "payment_id": "pay_080225913252",
    "amount": Decimal("1234.56"),
    "date": dt.date(2099, 1, 8),
    "fee": Decimal("1.99"),
    "type": "PIX",
    "status": "CONFIRMED",
    "gateway_status": "RECEIVED",
    "charge_code": "pay_080225913252",
    "charge_reference": "T-00AA11BB22CC33DD",
}

# A webhook as Asaas POSTs it (JSON), with the account's token in the asaas-access-token header.
ASAAS_WEBHOOK_HEADER = "asaas-access-token"
ASAAS_WEBHOOK_BODY = {
    "id": "evt_05b708f961d739ea7eba7e4db318f621&368604920",
    "event": "PAYMENT_RECEIVED",
    "dateCreated": "2099-01-08 16:45:03",
    "payment": ASAAS_PAID_RESPONSE,
}
ASAAS_WEBHOOK_KEYS = {"id", "event", "dateCreated", "payment"}
