"""Flow 4: staff import a CSV of customers; a bad row is shown in the preview, the fixed file imports."""

from __future__ import annotations

import csv
import io

import pytest

from customers.models import BillingType, Customer
from tests import factories
from tests.browser.helpers import log_in, pt, staff_user

playwright = pytest.importorskip("playwright.sync_api", reason="playwright (Python package) is not installed")
Page = playwright.Page
expect = playwright.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = ["nome", "cpf_cnpj", "email", "cidade", "estado", "cep", "valor_plano", "dia_vencimento"]
HEADER += ["tipo_cobranca", "conta_bancaria"]
ROWS = [
    [
        "Ana Souza",
        "529.982.247-25",
        "ana@example.com",
        "São Paulo",
        "sp",
        "01001-000",
        "99,90",
        "10",
        "titulo",
    ],
    ["Bruno Lima", "{bruno}", "bruno@example.com", "Campinas", "SP", "13010-000", "129,90", "15", "carnê"],
    [
        "Carla Dias",
        "11.222.333/0001-81",
        "carla@example.com",
        "Santos",
        "SP",
        "11010-000",
        "199.90",
        "20",
        "",
    ],
]
ACCOUNT = "Juno Sandbox"
BAD_CPF = "111.444.777-00"
GOOD_CPF = "111.444.777-35"


def csv_file(bruno_document: str) -> dict:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in ROWS:
        writer.writerow([field.format(bruno=bruno_document) for field in row] + [ACCOUNT])
    return {"name": "clientes.csv", "mimeType": "text/csv", "buffer": buffer.getvalue().encode("utf-8")}


def upload(page: Page, base: str, file: dict) -> None:
    page.goto(f"{base}/admin/customers/customer/import/")
    page.set_input_files("input[name=import_file]", files=[file])
    page.click(".submit-row input[type=submit]")


def test_import_shows_the_bad_row_then_imports_the_fixed_file(live_server, desktop, db):
    factories.JunoAccountFactory(name=ACCOUNT)
    context, screens = desktop
    page = context.new_page()
    base = live_server.url
    staff_user("importadora", groups=("Billing operators",))
    log_in(page, base, "importadora")

    upload(page, base, csv_file(BAD_CPF))
    bad_rows = page.locator("tr:has(.validation-error-count)")
    expect(bad_rows).to_have_count(1)
    expect(bad_rows).to_contain_text("Bruno Lima")
    # The preview shows the row's errors when the pointer rests on its error count.
    bad_rows.locator(".validation-error-count").hover()
    errors = bad_rows.locator(".validation-error-list")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(pt("Invalid CPF: the check digits do not match."))
    expect(page.locator("form[action$='process_import/'] input[type=submit]")).to_have_count(0)
    screens.snap(page, "preview-with-error")
    assert Customer.objects.count() == 0

    upload(page, base, csv_file(GOOD_CPF))
    confirm = page.locator("form[action$='process_import/'] input[type=submit]")
    expect(confirm).to_have_count(1)
    screens.snap(page, "preview-ok")
    confirm.click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    imported = {c.document: c for c in Customer.objects.select_related("bank_account")}
    assert set(imported) == {"52998224725", "11144477735", "11222333000181"}
    assert imported["11144477735"].billing_type == BillingType.CARNE
    assert imported["52998224725"].state == "SP" and imported["52998224725"].postcode == "01001000"
    assert str(imported["52998224725"].plan_amount) == "99.90"
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
