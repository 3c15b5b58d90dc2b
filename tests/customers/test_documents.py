import pytest
from django.core.exceptions import ValidationError

from core.documents import digits
from customers.documents import format_document, mask_document, validate_document
from tests.factories import make_cnpj, make_cpf


def test_valid_cpf_and_cnpj_pass_with_or_without_punctuation():
    cpf = make_cpf(123456789)
    validate_document(cpf)
    validate_document(format_document(cpf))
    validate_document(format_document(make_cnpj(11222333)))


@pytest.mark.parametrize("value", ["123.456.789-00", "11111111111", "11.222.333/0001-00"])
def test_invalid_documents_say_why(value):
    with pytest.raises(ValidationError) as exc:
        validate_document(value)
    assert "Invalid" in str(exc.value) or "inválido" in str(exc.value)


def test_wrong_length_is_rejected():
    with pytest.raises(ValidationError):
        validate_document("1234")


def test_format_and_mask():
    assert format_document("11222333000181") == "11.222.333/0001-81"
    assert mask_document("12345678909") == "***.456.789-**"
    assert digits("01.001-000") == "01001000"
