"""The boleto's check digits: barcode and linha digitável (CPF and CNPJ are in core.documents).

Pure functions with no Django import, so the simulators (which must also run as plain processes)
and the adapters share them. The rules are FEBRABAN's for bank boletos (not utility bills).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.documents import digits

#: Day 0 of the due-date factor; the factor wrapped from 9999 back to 1000 on 2025-02-22.
FACTOR_BASE = dt.date(1997, 10, 7)
FACTOR_WRAP = 10_000


# --- barcode and linha digitável ------------------------------------------------------------------
def mod10(numbers: str) -> int:
    """Check digit of each linha-digitável field: weights 2,1,2,... from the right, digits summed."""
    total = 0
    for i, char in enumerate(reversed(numbers)):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def mod11_general(numbers: str) -> int:
    """The barcode's general check digit: weights 2..9 from the right; 0, 10 and 11 become 1."""
    total = sum(int(char) * (2 + i % 8) for i, char in enumerate(reversed(numbers)))
    digit = 11 - total % 11
    return 1 if digit in (0, 10, 11) else digit


def due_factor(due_date: dt.date) -> str:
    """Four digits: days since 1997-10-07, restarting at 1000 after 9999 (as banks did in 2025)."""
    days = (due_date - FACTOR_BASE).days
    if days >= FACTOR_WRAP:
        days = (days - FACTOR_WRAP) % 9000 + 1000
    return f"{days:04d}"


def barcode(*, bank: str, due_date: dt.date, amount: Decimal, free_field: str) -> str:
    """The 44-digit barcode: bank, currency 9, general digit, factor, amount in cents, free field."""
    if len(bank) != 3 or len(free_field) != 25 or not (bank + free_field).isdigit():
        raise ValueError("bank must have 3 digits and free_field 25")
    cents = int((amount * 100).to_integral_value())
    body = f"{bank}9{due_factor(due_date)}{cents:010d}{free_field}"
    return body[:4] + str(mod11_general(body)) + body[4:]


def linha_digitavel(code: str) -> str:
    """The 47-digit line payers type, built from a 44-digit barcode (three mod-10 field digits)."""
    if len(code) != 44 or not code.isdigit():
        raise ValueError("a barcode has 44 digits")
    field1 = code[0:4] + code[19:24]
    field2 = code[24:34]
    field3 = code[34:44]
    return f"{field1}{mod10(field1)}{field2}{mod10(field2)}{field3}{mod10(field3)}{code[4]}{code[5:19]}"


def barcode_from_linha(line: str) -> str:
    """The 44-digit barcode a 47-digit linha digitável encodes (the inverse of :func:`linha_digitavel`).

    Check digits are not verified here: see :func:`is_valid_linha_digitavel`.
    """
    line = digits(line)
    if len(line) != 47:
        raise ValueError("a linha digitável has 47 digits")
    return line[0:4] + line[32] + line[33:47] + line[4:9] + line[10:20] + line[21:31]


def is_valid_linha_digitavel(line: str) -> bool:
    """True when the three field digits and the general digit of a 47-digit line all check."""
    line = digits(line)
    if len(line) != 47:
        return False
    fields = ((line[0:9], line[9]), (line[10:20], line[20]), (line[21:31], line[31]))
    if any(str(mod10(body)) != digit for body, digit in fields):
        return False
    code = barcode_from_linha(line)
    return int(code[4]) == mod11_general(code[:4] + code[5:])
