"""Check digits: the barcode's mod-11 digit and the linha digitável's mod-10 digits (CPF/CNPJ: tests/core)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gateways.brazil import (
    barcode,
    due_factor,
    is_valid_linha_digitavel,
    linha_digitavel,
    mod10,
    mod11_general,
)

# A published Banco do Brasil example line (R$ 1,00) and its barcode.
KNOWN_LINE = "00190500954014481606906809350314337370000000100"
KNOWN_BARCODE = "00193373700000001000500940144816060680935031"


def test_known_line_checks_and_rebuilds_from_its_barcode():
    assert is_valid_linha_digitavel(KNOWN_LINE)
    assert linha_digitavel(KNOWN_BARCODE) == KNOWN_LINE


@pytest.mark.parametrize("position", [0, 9, 15, 20, 25, 31, 32, 40, 46])
def test_changing_any_digit_breaks_the_line(position):
    digit = str((int(KNOWN_LINE[position]) + 1) % 10)
    assert not is_valid_linha_digitavel(KNOWN_LINE[:position] + digit + KNOWN_LINE[position + 1 :])


def test_mod10_and_mod11_by_hand():
    assert mod10("001905009") == 5  # the known line's first field digit
    assert mod11_general("0019" + KNOWN_BARCODE[5:]) == int(KNOWN_BARCODE[4])


def test_due_factor_wraps_in_2025():
    assert due_factor(dt.date(2000, 7, 3)) == "1000"
    assert due_factor(dt.date(2025, 2, 21)) == "9999"
    assert due_factor(dt.date(2025, 2, 22)) == "1000"


@pytest.mark.parametrize("seed", range(0, 200, 7))
def test_generated_lines_always_check(seed):
    code = barcode(
        bank="422",
        due_date=dt.date(2026, 1, 1) + dt.timedelta(days=seed * 3),
        amount=Decimal(seed) + Decimal("0.37"),
        free_field=f"{seed * 7919:025d}",
    )
    assert len(code) == 44
    line = linha_digitavel(code)
    assert len(line) == 47 and is_valid_linha_digitavel(line)
    assert line[37:47] == f"{(seed * 100 + 37):010d}"  # the amount in cents closes the line
