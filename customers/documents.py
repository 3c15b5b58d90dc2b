"""CPF and CNPJ: normalisation, validation (check digits) and display."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from localflavor.br.forms import BRCNPJField, BRCPFField

_NON_DIGITS = re.compile(r"\D")


def digits(value: str | None) -> str:
    return _NON_DIGITS.sub("", value or "")


def validate_document(value: str) -> None:
    """Accept a valid CPF (11 digits) or CNPJ (14 digits), with or without punctuation."""
    number = digits(value)
    if len(number) == 11:
        field: BRCPFField | BRCNPJField = BRCPFField()
        label = _("Invalid CPF: the check digits do not match.")
    elif len(number) == 14:
        field = BRCNPJField()
        label = _("Invalid CNPJ: the check digits do not match.")
    else:
        raise ValidationError(_("Enter a CPF (11 digits) or a CNPJ (14 digits)."), code="document_length")
    try:
        field.clean(number)
    except ValidationError as exc:
        raise ValidationError(label, code="document_invalid") from exc


def format_document(value: str) -> str:
    number = digits(value)
    if len(number) == 11:
        return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    if len(number) == 14:
        return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"
    return value


def mask_document(value: str) -> str:
    """What the portal shows: enough to recognise, not enough to copy (LGPD)."""
    number = digits(value)
    if len(number) == 11:
        return f"***.{number[3:6]}.{number[6:9]}-**"
    if len(number) == 14:
        return f"{number[:2]}.{number[2:5]}.***/****-{number[12:]}"
    return "***"


def format_postcode(value: str) -> str:
    number = digits(value)
    return f"{number[:5]}-{number[5:]}" if len(number) == 8 else value
