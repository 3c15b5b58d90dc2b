"""CPF and CNPJ for staff and subscribers: the validator of the customer's field, and display.

The check digits themselves are computed, and documents and CEPs punctuated for display, in
:mod:`core.documents` (``format_document`` and ``format_postcode`` are re-exported here).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.documents import digits, format_document, format_postcode, is_valid_cnpj, is_valid_cpf


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


def mask_document(value: str) -> str:
    """What the portal shows: enough to recognise, not enough to copy (LGPD)."""
    number = digits(value)
    if len(number) == 11:
        return f"***.{number[3:6]}.{number[6:9]}-**"
    if len(number) == 14:
        return f"{number[:2]}.{number[2:5]}.***/****-{number[12:]}"
    return "***"


__all__ = ["digits", "format_document", "format_postcode", "mask_document", "validate_document"]
