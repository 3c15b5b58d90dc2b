"""Customer import (django-import-export) with MK-Auth's customer-export column names.

The mapping is documented in docs/import.md. An import only creates customers, and it is all or
nothing: every row is checked in the preview, and one bad row rolls the whole file back.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from core.documents import digits, format_phone
from customers.documents import validate_document
from customers.models import BillingType, Customer
from providers.models import BankAccount

#: (column header, model attribute, example value) in the order of the downloadable template.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("nome", "name", "Maria da Silva"),
    ("cpf_cnpj", "document", "529.982.247-25"),
    ("email", "email", "maria@example.com"),
    ("celular", "mobile", "(11) 99999-0000"),
    ("fone", "phone", "(11) 3333-0000"),
    ("endereco", "street", "Rua das Flores"),
    ("numero", "number", "100"),
    ("complemento", "complement", "Apto 12"),
    ("bairro", "neighborhood", "Centro"),
    ("cidade", "city", "São Paulo"),
    ("estado", "state", "SP"),
    ("cep", "postcode", "01001-000"),
    ("valor_plano", "plan_amount", "99,90"),
    ("dia_vencimento", "due_day", "10"),
    ("tipo_cobranca", "billing_type", "titulo"),
    ("conta_bancaria", "bank_account", "Juno"),
    ("obs", "notes", ""),
)
REQUIRED_COLUMNS = ("nome", "cpf_cnpj", "valor_plano", "dia_vencimento")

_BILLING_TYPES = {
    "titulo": BillingType.TITULO,
    "título": BillingType.TITULO,
    "avulso": BillingType.TITULO,
    "boleto": BillingType.TITULO,
    "carne": BillingType.CARNE,
    "carnê": BillingType.CARNE,
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn "10" into 10.0
    return str(value).strip()


class TextWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return _text(value)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return _text(value)


class DocumentWidget(TextWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        if not text:
            raise ValueError(_("The CPF/CNPJ is missing."))
        try:
            validate_document(text)
        except ValidationError as error:
            raise ValueError(" ".join(str(m) for m in error.messages)) from error
        return digits(text)


class PostcodeWidget(TextWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value)
        number = digits(text)
        if text and len(number) != 8:
            raise ValueError(_("Invalid CEP %(value)s: a CEP has 8 digits.") % {"value": text})
        return number


class PhoneWidget(TextWidget):
    """Kept as the admin's form keeps it: (11) 98765-4321 when recognised, else as exported."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return format_phone(_text(value))


class UpperTextWidget(TextWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return _text(value).upper()


class MoneyWidget(TextWidget):
    """Brazilian or plain decimals: ``R$ 1.234,56``, ``99,90``, ``99.90``."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:  # type: ignore[override]
        text = _text(value).replace("R$", "").replace(" ", "")
        if not text:
            raise ValueError(_("The plan amount is missing."))
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        try:
            amount = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(_("Invalid amount %(value)s.") % {"value": _text(value)}) from error
        if amount < 0:
            raise ValueError(_("The plan amount cannot be negative."))
        return amount.quantize(Decimal("0.01"))


class DueDayWidget(TextWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:  # type: ignore[override]
        text = _text(value)
        if not text.isdigit() or not 1 <= int(text) <= 31:
            raise ValueError(_("Invalid due day %(value)s: use 1 to 31.") % {"value": text or "-"})
        return int(text)


class BillingTypeWidget(TextWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = _text(value).lower()
        if not text:
            return BillingType.TITULO
        try:
            return _BILLING_TYPES[text]
        except KeyError:
            raise ValueError(
                _("Invalid billing type %(value)s: use titulo or carne.") % {"value": _text(value)}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return _text(value)


class BankAccountWidget(widgets.Widget):
    """A bank account by id or by name (case-insensitive); blank means the only active account."""

    def __init__(self) -> None:
        super().__init__()
        self._accounts: list[BankAccount] | None = None

    def reset(self) -> None:
        self._accounts = None

    def accounts(self) -> list[BankAccount]:
        if self._accounts is None:  # one query per import, not one per row
            self._accounts = list(BankAccount.objects.all())
        return self._accounts

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> BankAccount:
        text = _text(value)
        if not text:
            active = [a for a in self.accounts() if a.active]
            if len(active) == 1:
                return active[0]
            raise ValueError(_("The bank account is missing (its name or id)."))
        matches = [a for a in self.accounts() if str(a.pk) == text or a.name.casefold() == text.casefold()]
        if len(matches) != 1:
            message = (
                _("Unknown bank account %(value)s.")
                if not matches
                else _("Several bank accounts are named %(value)s: use the id.")
            )
            raise ValueError(message % {"value": text})
        return matches[0]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.name if value else ""


class CustomerResource(resources.ModelResource):
    """Creates customers from an MK-Auth customer export; never updates existing ones."""

    nome = fields.Field(attribute="name", column_name="nome", widget=TextWidget())
    cpf_cnpj = fields.Field(attribute="document", column_name="cpf_cnpj", widget=DocumentWidget())
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget())
    celular = fields.Field(attribute="mobile", column_name="celular", widget=PhoneWidget())
    fone = fields.Field(attribute="phone", column_name="fone", widget=PhoneWidget())
    endereco = fields.Field(attribute="street", column_name="endereco", widget=TextWidget())
    numero = fields.Field(attribute="number", column_name="numero", widget=TextWidget())
    complemento = fields.Field(attribute="complement", column_name="complemento", widget=TextWidget())
    bairro = fields.Field(attribute="neighborhood", column_name="bairro", widget=TextWidget())
    cidade = fields.Field(attribute="city", column_name="cidade", widget=TextWidget())
    estado = fields.Field(attribute="state", column_name="estado", widget=UpperTextWidget())
    cep = fields.Field(attribute="postcode", column_name="cep", widget=PostcodeWidget())
    valor_plano = fields.Field(attribute="plan_amount", column_name="valor_plano", widget=MoneyWidget())
    dia_vencimento = fields.Field(attribute="due_day", column_name="dia_vencimento", widget=DueDayWidget())
    tipo_cobranca = fields.Field(
        attribute="billing_type", column_name="tipo_cobranca", widget=BillingTypeWidget()
    )
    conta_bancaria = fields.Field(
        attribute="bank_account", column_name="conta_bancaria", widget=BankAccountWidget()
    )
    obs = fields.Field(attribute="notes", column_name="obs", widget=TextWidget())

    class Meta:
        model = Customer
        fields = tuple(column for column, _attr, _example in COLUMNS)
        import_order = fields
        export_order = fields
        force_init_instance = True  # only creates: an existing CPF/CNPJ is an error, not an update
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = False
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._document_rows: dict[str, list[int]] = {}

    def import_data(self, dataset: Any, **kwargs: Any) -> Any:
        # All or nothing: a row with a validation error rolls back every row, not only itself.
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        missing = [column for column in REQUIRED_COLUMNS if column not in (dataset.headers or [])]
        if missing:
            raise ValueError(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
        self._document_rows = {}
        self.fields["conta_bancaria"].widget.reset()
        if "cpf_cnpj" in dataset.headers:
            numbers = [digits(_text(value)) for value in dataset["cpf_cnpj"]]
            counts = Counter(n for n in numbers if n)
            for row_number, number in enumerate(numbers, 1):
                if counts[number] > 1:
                    self._document_rows.setdefault(number, []).append(row_number)

    def import_instance(self, instance: Customer, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        repeated = self._document_rows.get(digits(_text(row.get("cpf_cnpj"))))
        if repeated and "document" not in errors:
            errors["document"] = [
                ValidationError(
                    _("This CPF/CNPJ appears more than once in the file (rows %(rows)s).")
                    % {"rows": ", ".join(str(n) for n in repeated)},
                    code="duplicate_in_file",
                )
            ]
        if errors:
            raise ValidationError(errors)


class SpreadsheetCSV(base_formats.CSV):
    """CSV as Brazilian spreadsheets and MK-Auth write it: ``;`` or ``,`` separated, UTF-8 or Windows-1252."""

    def is_binary(self) -> bool:
        return True  # decoded here, where the encoding can be guessed

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any) -> tablib.Dataset:
        text = in_stream if isinstance(in_stream, str) else _decode(in_stream)
        header = text.split("\n", 1)[0]
        delimiter = ";" if header.count(";") > header.count(",") else ","
        return tablib.import_set(text, format="csv", delimiter=delimiter, **kwargs)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


IMPORT_FORMATS = [fmt for fmt in (SpreadsheetCSV, base_formats.XLSX) if fmt.is_available()]


def template_csv() -> str:
    """The downloadable template: the headers and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column for column, _attr, _example in COLUMNS])
    writer.writerow([example for _column, _attr, example in COLUMNS])
    return buffer.getvalue()
