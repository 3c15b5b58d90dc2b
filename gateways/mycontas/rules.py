"""The Mycontas manual's observations 1–10 and its format limits, checked on the form itself.

The adapter checks them before sending (a refused request costs a round trip and leaves an error
page nobody reads); the simulator checks the same on arrival, as the service does. Each violation
names its rule so staff can find it in the manual. Pure: no Django settings, no HTTP.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from core.documents import is_valid_document

REQUIRED = (
    "txtCod_cliente",
    "txtCod_senha",
    "txtVencimento",
    "txtValor",
    "txtDescricao1",
    "txtNome",
    "txtCPF_CNPJ",
)
DESCRIPTION_FIELDS = tuple(f"txtDescricao{i}" for i in range(1, 6))
MAX_DESCRIPTION_CHARS = 80
MAX_REFERENCE_CHARS = 50
MAIL_FIELDS = ("txtNome", "txtEndereco", "txtCidade", "txtEstado", "txtCep")
_INTEGER = re.compile(r"^\d+$")
_ACCOUNT_CODE = re.compile(r"^[A-Za-z0-9]{20}$")


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _rule1_required(form: Mapping[str, str]) -> list[str]:
    missing = [name for name in REQUIRED if not str(form.get(name, "")).strip()]
    if missing:
        return [str(_("Rule 1 (required fields): missing %(fields)s.")) % {"fields": ", ".join(missing)}]
    if not _ACCOUNT_CODE.match(form["txtCod_cliente"]):
        return [str(_("Rule 1 (required fields): txtCod_cliente must be 20 letters and digits."))]
    return []


def _rules2_10_payer(form: Mapping[str, str]) -> list[str]:
    document = str(form.get("txtCPF_CNPJ", ""))
    if document and (not document.isdigit() or not is_valid_document(document)):
        return [
            str(
                _(
                    "Rules 2 and 10 (payer identified by CPF/CNPJ): txtCPF_CNPJ must be a valid CPF or "
                    "CNPJ, digits only."
                )
            )
        ]
    return []


def _rule3_value(form: Mapping[str, str]) -> list[str]:
    value = str(form.get("txtValor", ""))
    if not value:
        return []
    if not _INTEGER.match(value):
        return [str(_("Rule 3 (value): txtValor must be an integer number of cents, e.g. 123456."))]
    payer_fills = form.get("rdValorSacado", "N") == "S"
    if int(value) == 0 and not payer_fills:
        return [str(_("Rule 3 (value): a zero value needs the payer to fill it in (rdValorSacado=S)."))]
    if int(value) != 0 and payer_fills:
        return [str(_("Rule 3 (value): when the payer fills in the value (rdValorSacado=S), it must be 0."))]
    return []


def _rule4_discount(form: Mapping[str, str]) -> list[str]:
    given = [
        bool(str(form.get(n, "")).strip()) for n in ("txtDesconto", "txtTipoDesconto", "txtDiasDesconto")
    ]
    if given[0] and not all(given):
        return [str(_("Rule 4 (discount): txtDesconto needs txtTipoDesconto and txtDiasDesconto."))]
    return []


def _rule5_due_date(form: Mapping[str, str], today: dt.date) -> list[str]:
    value = str(form.get("txtVencimento", ""))
    if not value:
        return []
    due = _date(value)
    if due is None:
        return [str(_("Rule 5 (due date): txtVencimento must be a date as YYYY-MM-DD."))]
    if due <= today:
        return [str(_("Rule 5 (due date): the due date must be after today (%(today)s).")) % {"today": today}]
    return []


def _rule6_last_day(form: Mapping[str, str]) -> list[str]:
    if form.get("txtUltimoDia", "N") not in ("S", "N", ""):
        return [str(_("Rule 6 (last day of the month): txtUltimoDia must be S or N."))]
    return []


def _rule7_contra_apresentacao(form: Mapping[str, str]) -> list[str]:
    flag = form.get("rdContraApresentacao", "N")
    if flag not in ("S", "N", ""):
        return [str(_("Rule 7 (contra-apresentação): rdContraApresentacao must be S or N."))]
    if flag == "S" and not form.get("txtVencimento"):
        return [
            str(_("Rule 7 (contra-apresentação): a reference due date (txtVencimento) is still required."))
        ]
    return []


def _rule8_advance(form: Mapping[str, str]) -> list[str]:
    value = str(form.get("txtAntecedencia", ""))
    if value and not _INTEGER.match(value):
        return [str(_("Rule 8 (advance notice): txtAntecedencia must be a whole number of days."))]
    return []


def _rule9_mail(form: Mapping[str, str]) -> list[str]:
    if form.get("txtTipoRemessa", "1") not in ("1", "2", "3", ""):
        return [str(_("Rule 9 (delivery): txtTipoRemessa must be 1, 2 or 3."))]
    if form.get("txtTipoRemessa") in ("2", "3"):
        missing = [name for name in MAIL_FIELDS if not str(form.get(name, "")).strip()]
        if missing:
            return [str(_("Rule 9 (delivery by post): missing %(fields)s.")) % {"fields": ", ".join(missing)}]
    return []


def _format_limits(form: Mapping[str, str]) -> list[str]:
    problems = []
    for name in DESCRIPTION_FIELDS:
        if len(str(form.get(name, ""))) > MAX_DESCRIPTION_CHARS:
            problems.append(
                str(_("Parameter table: %(field)s has more than 80 characters.")) % {"field": name}
            )
    if len(str(form.get("txtReferencia", ""))) > MAX_REFERENCE_CHARS:
        problems.append(str(_("Parameter table: txtReferencia has more than 50 characters.")))
    for name in ("txtParcelasCarne", "txtAtraso", "txtMulta", "txtJuros", "txtCep"):
        value = str(form.get(name, ""))
        if value and not _INTEGER.match(value):
            problems.append(str(_("Parameter table: %(field)s must be a whole number.")) % {"field": name})
    if str(form.get("txtParcelasCarne", "1") or "1") == "0":
        problems.append(str(_("Parameter table: txtParcelasCarne must be at least 1.")))
    return problems


def violations(form: Mapping[str, str], *, today: dt.date) -> list[str]:
    """Every broken rule, in the manual's order; empty when the form may be sent."""
    return [
        *_rule1_required(form),
        *_rules2_10_payer(form),
        *_rule3_value(form),
        *_rule4_discount(form),
        *_rule5_due_date(form, today),
        *_rule6_last_day(form),
        *_rule7_contra_apresentacao(form),
        *_rule8_advance(form),
        *_rule9_mail(form),
        *_format_limits(form),
    ]
