"""CPF and CNPJ for staff and subscribers: the validator of the customer's field, and display.

The check digits themselves are computed in :mod:`core.documents`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.documents import digits, is_valid_cnpj, is_valid_cpf


def validate_document(value: str) -> None:
    """Accept a valid CPF (11 digits) or CNPJ (14 digits), with or without punctuation."""
    number = digits(value)
    if len(number) == 11:
        if not is_valid_cpf(number):
            raise ValidationError(_("Invalid CPF: the check digits do not match."), code="document_invalid")
    elif len(number) == 14:
        if not is_valid_cnpj(number):
            raise ValidationError(_("Invalid CNPJ: the check digits do not match."), code="document_invalid")
    else:
        raise ValidationError(_("Enter a CPF (11 digits) or a CNPJ (14 digits)."), code="document_length")


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
