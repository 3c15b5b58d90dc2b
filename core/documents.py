"""CPF and CNPJ: the digits of a document and its check digits (Receita Federal's modulo 11).

Pure Python with no Django import: the customers app validates with it, the gateways' adapters and
simulators (which also run as plain processes) check payers with it, and the demo data and the
tests build valid documents with it.
"""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")

CPF_LENGTH = 11
CNPJ_LENGTH = 14
_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def digits(value: str | None) -> str:
    """Only the digits of ``value`` (documents, CEPs and phones arrive punctuated)."""
    return _NON_DIGITS.sub("", value or "")


def _cpf_digit(numbers: str) -> str:
    weight = len(numbers) + 1
    rest = sum(int(d) * (weight - i) for i, d in enumerate(numbers)) * 10 % 11
    return str(0 if rest == 10 else rest)


def _cnpj_digit(numbers: str) -> str:
    weights = _CNPJ_WEIGHTS[-len(numbers) :]
    rest = sum(int(d) * w for d, w in zip(numbers, weights, strict=True)) % 11
    return str(0 if rest < 2 else 11 - rest)


def with_check_digits(base: str) -> str:
    """The whole document for its first 9 (CPF) or 12 (CNPJ) digits."""
    number = digits(base)
    if len(number) == CPF_LENGTH - 2:
        digit = _cpf_digit
    elif len(number) == CNPJ_LENGTH - 2:
        digit = _cnpj_digit
    else:
        raise ValueError(f"a CPF base has 9 digits and a CNPJ base 12, not {len(number)}")
    number += digit(number)
    return number + digit(number)


def is_valid_cpf(value: str) -> bool:
    number = digits(value)
    if len(number) != CPF_LENGTH or number == number[0] * CPF_LENGTH:
        return False
    return number == with_check_digits(number[:9])


def is_valid_cnpj(value: str) -> bool:
    number = digits(value)
    if len(number) != CNPJ_LENGTH or number == number[0] * CNPJ_LENGTH:
        return False
    return number == with_check_digits(number[:12])


def is_valid_document(value: str) -> bool:
    """A valid CPF (11 digits) or CNPJ (14 digits), punctuation ignored."""
    return is_valid_cpf(value) or is_valid_cnpj(value)


def format_document(value: str) -> str:
    """A CPF as 123.456.789-09, a CNPJ as 12.345.678/0001-95; anything else as it is."""
    number = digits(value)
    if len(number) == 11:
        return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    if len(number) == 14:
        return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"
    return value


def format_postcode(value: str) -> str:
    """A CEP as 01001-000; anything else as it is."""
    number = digits(value)
    return f"{number[:5]}-{number[5:]}" if len(number) == 8 else value


#: Brazil's country code, which numbers typed in international form start with.
COUNTRY_CODE = "55"


def format_phone(value: str) -> str:
    """A Brazilian phone as (11) 3333-0000 or, a mobile, (11) 98765-4321, with or without +55;
    anything else as it is (imported or odd numbers are kept, never lost)."""
    number = digits(value)
    if len(number) in (12, 13) and number.startswith(COUNTRY_CODE):
        number = number[len(COUNTRY_CODE) :]
    if len(number) not in (10, 11) or number[0] == "0":
        return value
    return f"({number[:2]}) {number[2:-4]}-{number[-4:]}"
