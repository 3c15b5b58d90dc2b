"""Customer import from an MK-Auth export: every error in the preview, and all or nothing."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from customers.resources import COLUMNS, CustomerResource, template_csv
from tests import factories

pytestmark = pytest.mark.django_db

HEADERS = [column for column, _attr, _example in COLUMNS]
VALID_CPF = "529.982.247-25"
VALID_CNPJ = "11.222.333/0001-81"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def account(db):
    return factories.JunoAccountFactory(name="Juno Principal")


def row(**values) -> dict[str, str]:
    base = {
        "nome": "Maria da Silva",
        "cpf_cnpj": VALID_CPF,
        "email": "maria@example.com",
        "celular": "(11) 99999-0000",
        "fone": "",
        "endereco": "Rua das Flores",
        "numero": "100",
        "complemento": "",
        "bairro": "Centro",
        "cidade": "São Paulo",
        "estado": "sp",
        "cep": "01001-000",
        "valor_plano": "99,90",
        "dia_vencimento": "10",
        "tipo_cobranca": "Carnê",
        "conta_bancaria": "juno principal",
        "obs": "",
    }
    base.update(values)
    return base


def dataset(*rows: dict[str, str]) -> tablib.Dataset:
    data = tablib.Dataset(headers=HEADERS)
    for r in rows:
        data.append([r[h] for h in HEADERS])
    return data


def csv_file(*rows: dict[str, str]) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("clientes.csv", buffer.getvalue().encode("utf-8"), content_type="text/csv")


def errors_by_row(result) -> dict[int, str]:
    return {
        invalid.number: " ".join(str(m) for messages in invalid.error_dict.values() for m in messages)
        for invalid in result.invalid_rows
    }


def test_valid_rows_map_mk_auth_columns(account):
    result = CustomerResource().import_data(
        dataset(
            row(),
            row(
                nome="Empresa X",
                cpf_cnpj=VALID_CNPJ,
                tipo_cobranca="",
                conta_bancaria=str(account.pk),
                celular="11988887777",
                fone="0800 123 4567",
            ),
        )
    )
    assert not result.has_errors() and not result.has_validation_errors()
    maria = Customer.objects.get(name="Maria da Silva")
    assert maria.document == "52998224725"
    assert maria.postcode == "01001000"
    assert maria.state == "SP"
    assert maria.plan_amount == Decimal("99.90")
    assert maria.due_day == 10
    assert maria.billing_type == "carne"
    assert maria.bank_account == account
    assert maria.mobile == "(11) 99999-0000"
    company = Customer.objects.get(name="Empresa X")
    assert company.document == "11222333000181"
    assert company.billing_type == "titulo"
    assert (company.mobile, company.phone) == ("(11) 98888-7777", "0800 123 4567")  # odd ones as exported


def test_preview_lists_every_row_error_and_writes_nothing(account):
    existing = factories.CustomerFactory(bank_account=account)
    result = CustomerResource().import_data(
        dataset(
            row(),  # 1: fine on its own
            row(nome="CPF ruim", cpf_cnpj="529.982.247-26"),  # 2
            row(nome="Conta?", cpf_cnpj="111.444.777-35", conta_bancaria="Banco Inexistente"),  # 3
            row(nome="CEP", cpf_cnpj="390.533.447-05", cep="0100-100"),  # 4
            row(nome="Repetido", cpf_cnpj="52998224725"),  # 5: same as row 1
            row(nome="Já existe", cpf_cnpj=existing.document_display),  # 6
            row(nome="Dia", cpf_cnpj="123.456.789-09", dia_vencimento="32", valor_plano="abc"),  # 7
        ),
        dry_run=True,
    )
    errors = errors_by_row(result)
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7}
    assert "Invalid CPF: the check digits do not match." in errors[2]
    assert "Unknown bank account Banco Inexistente." in errors[3]
    assert "a CEP has 8 digits" in errors[4]
    assert "appears more than once in the file (rows 1, 5)" in errors[1]
    assert "appears more than once in the file (rows 1, 5)" in errors[5]
    assert "already exists" in errors[6]
    assert "Invalid due day 32" in errors[7] and "Invalid amount abc" in errors[7]
    assert Customer.objects.count() == 1


def test_one_bad_row_rolls_back_the_whole_file(account):
    result = CustomerResource().import_data(
        dataset(row(), row(nome="Outro", cpf_cnpj="111.444.777-35", cep="123")), dry_run=False
    )
    assert result.has_validation_errors()
    assert not Customer.objects.exists()


def test_template_has_the_headers_and_an_example_that_imports(account):
    lines = list(csv.reader(io.StringIO(template_csv())))
    assert lines[0] == HEADERS
    example = dict(zip(lines[0], lines[1], strict=True))
    example["conta_bancaria"] = account.name
    result = CustomerResource().import_data(dataset(example))
    assert not result.has_validation_errors(), errors_by_row(result)
    assert Customer.objects.count() == 1


# --- through the admin ---------------------------------------------------------------------------
@pytest.fixture
def operator():
    user = factories.UserFactory(username="operator")
    user.groups.add(Group.objects.get(name="Billing operators"))
    return user


def _csv_format_index(page) -> str:
    choices = page.context["form"].fields["format"].choices
    return next(str(value) for value, label in choices if str(label).lower() == "csv")


def test_admin_import_preview_shows_errors_and_offers_no_confirm(client, operator, account):
    client.force_login(operator)
    url = reverse("admin:customers_customer_import")
    page = client.get(url)
    assert page.status_code == 200
    assert reverse("admin:customers_customer_import_template") in page.content.decode()
    response = client.post(
        url,
        {
            "format": _csv_format_index(page),
            "resource": "0",
            "import_file": csv_file(
                row(), row(nome="Ruim", cpf_cnpj="000.000.000-00", conta_bancaria="Nada")
            ),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Invalid CPF: the check digits do not match." in html
    assert "Unknown bank account Nada." in html
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Customer.objects.exists()


def test_admin_import_preview_then_confirm_creates_everyone(client, operator, account):
    client.force_login(operator)
    url = reverse("admin:customers_customer_import")
    page = client.get(url)
    response = client.post(
        url,
        {
            "format": _csv_format_index(page),
            "resource": "0",
            "import_file": csv_file(row(), row(nome="Segundo", cpf_cnpj="111.444.777-35")),
        },
    )
    confirm_form = response.context["confirm_form"]
    assert confirm_form is not None
    assert not Customer.objects.exists()  # the preview wrote nothing
    data = {name: field.value() for name, field in ((f.name, f) for f in confirm_form)}
    done = client.post(
        reverse("admin:customers_customer_process_import"), {k: v for k, v in data.items() if v is not None}
    )
    assert done.status_code == 302
    assert Customer.objects.count() == 2


def test_admin_confirm_is_all_or_nothing_when_the_database_changed_meanwhile(client, operator, account):
    client.force_login(operator)
    url = reverse("admin:customers_customer_import")
    page = client.get(url)
    response = client.post(
        url,
        {
            "format": _csv_format_index(page),
            "resource": "0",
            "import_file": csv_file(row(), row(nome="Segundo", cpf_cnpj="111.444.777-35")),
        },
    )
    confirm_form = response.context["confirm_form"]
    factories.CustomerFactory(bank_account=account, document="11144477735")  # someone added one meanwhile
    data = {f.name: f.value() for f in confirm_form}
    done = client.post(
        reverse("admin:customers_customer_process_import"), {k: v for k, v in data.items() if v is not None}
    )
    assert done.status_code == 302
    assert done["Location"] == url
    assert Customer.objects.count() == 1  # only the one added meanwhile: the file was rolled back


def test_admin_reads_semicolon_separated_windows_1252_files(client, operator, account):
    client.force_login(operator)
    url = reverse("admin:customers_customer_import")
    page = client.get(url)
    lines = [";".join(HEADERS), ";".join(row(nome="José Araújo", valor_plano="1.234,56")[h] for h in HEADERS)]
    upload = SimpleUploadedFile("mk-auth.csv", "\r\n".join(lines).encode("cp1252"), content_type="text/csv")
    response = client.post(url, {"format": _csv_format_index(page), "resource": "0", "import_file": upload})
    assert response.context["confirm_form"] is not None, response.content.decode()[-3000:]
    data = {f.name: f.value() for f in response.context["confirm_form"]}
    client.post(
        reverse("admin:customers_customer_process_import"), {k: v for k, v in data.items() if v is not None}
    )
    customer = Customer.objects.get()
    assert customer.name == "José Araújo"
    assert customer.plan_amount == Decimal("1234.56")


def test_import_needs_add_permission(client, account):
    reader = factories.UserFactory(username="reader")
    reader.groups.add(Group.objects.get(name="Billing readers"))
    client.force_login(reader)
    assert client.get(reverse("admin:customers_customer_import")).status_code == 403
    assert client.get(reverse("admin:customers_customer_import_template")).status_code == 403
