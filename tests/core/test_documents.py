"""core.documents: CPF and CNPJ check digits, the one implementation every app and gateway uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.documents import (
    digits,
    format_phone,
    is_valid_cnpj,
    is_valid_cpf,
    is_valid_document,
    with_check_digits,
)
from tests.factories import make_cnpj, make_cpf

ROOT = Path(__file__).resolve().parents[2]


def test_known_documents():
    assert is_valid_cpf("529.982.247-25") and not is_valid_cpf("529.982.247-26")
    assert not is_valid_cpf("111.111.111-11")  # right check digits, but a repeated digit
    assert is_valid_cnpj("11.222.333/0001-81") and not is_valid_cnpj("11.222.333/0001-82")
    assert not is_valid_cnpj("00000000000000")
    assert is_valid_document("52998224725") and is_valid_document("11222333000181")
    assert not is_valid_document("1234")


def test_check_digits_are_built_from_the_base():
    assert with_check_digits("529982247") == "52998224725"
    assert with_check_digits("11.222.333/0001") == "11222333000181"
    with pytest.raises(ValueError):
        with_check_digits("1234")


@pytest.mark.parametrize("seed", [1, 12345, 987654321, 4242])
def test_every_built_document_is_valid_and_one_changed_digit_is_not(seed):
    for number in (make_cpf(seed), make_cnpj(seed)):
        assert is_valid_document(number)
        last = str((int(number[-1]) + 1) % 10)
        assert not is_valid_document(number[:-1] + last)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("11987654321", "(11) 98765-4321"),
        ("+55 11 98765-4321", "(11) 98765-4321"),
        ("5511987654321", "(11) 98765-4321"),
        ("(19) 3333-0000", "(19) 3333-0000"),
        ("1933330000", "(19) 3333-0000"),
        ("555133330000", "(51) 3333-0000"),
        ("0800 123 4567", "0800 123 4567"),  # toll-free: kept as typed
        ("ramal 12", "ramal 12"),
        ("", ""),
    ],
)
def test_phones_are_shown_the_brazilian_way_and_odd_ones_kept(typed, shown):
    assert format_phone(typed) == shown


def test_digits():
    assert (
        digits("01.001-000") == "01001000"
        and digits(None) == ""
        and digits("(11) 9 8765-4321") == "11987654321"
    )


def test_the_gateways_pure_helpers_import_no_django():
    # The simulators run as plain processes: what they import from core must not need Django.
    script = (
        "import sys, core.documents, core.dates, gateways.brazil;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
