import pytest

from billing.admin.search import search_charges, search_gateway_logs
from billing.models import Charge, GatewayLog
from customers.models import Customer
from customers.search import classify, search_customers
from tests.factories import CarneFactory, ChargeFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "term,kind",
    [
        ("T-1A2B3C4D5E6F7A8B", "reference"),
        ("c-1a2b3c4d5e6f7a8b-02", "reference"),
        ("123.456.789-09", "document"),
        ("11.222.333/0001-81", "document"),
        ("100000123", "code"),
        ("Maria Silva", "text"),
    ],
)
def test_classify(term, kind):
    assert classify(term) == kind


def test_search_charges_by_each_shape(juno_account):
    maria = CustomerFactory(name="Maria Silva", bank_account=juno_account)
    other = CustomerFactory(name="João Souza", bank_account=juno_account)
    mine = ChargeFactory(customer=maria, reference="T-AAAA000000000001", gateway_code="555001")
    theirs = ChargeFactory(customer=other, reference="T-AAAA000000000002", gateway_code="555002")
    carne = CarneFactory(customer=other, reference="C-BBBB000000000001")
    installment = ChargeFactory(
        customer=other, carne=carne, installment_number=1, reference=f"{carne.reference}-01"
    )
    qs = Charge.objects.all()
    assert list(search_charges(qs, "t-aaaa000000000001")) == [mine]
    assert set(search_charges(qs, carne.reference)) == {installment}
    assert list(search_charges(qs, "555002")) == [theirs]
    assert set(search_charges(qs, "maria")) == {mine}
    assert set(search_charges(qs, maria.document_display)) == {mine}


def test_search_customers_and_logs(juno_account):
    maria = CustomerFactory(name="Maria Silva", email="maria@example.com", bank_account=juno_account)
    CustomerFactory(name="João", bank_account=juno_account)
    qs = Customer.objects.all()
    assert list(search_customers(qs, maria.document_display)) == [maria]
    assert list(search_customers(qs, maria.document[:9])) == [maria]
    assert list(search_customers(qs, "MARIA@example.com")) == [maria]
    assert list(search_customers(qs, "silva")) == [maria]
    log = GatewayLog.objects.create(
        gateway="juno",
        endpoint="issue-charge",
        url="x",
        outcome="ok",
        reference="T-AAAA000000000009",
        gateway_code="777",
    )
    logs = GatewayLog.objects.all()
    assert list(search_gateway_logs(logs, "T-AAAA000000000009")) == [log]
    assert list(search_gateway_logs(logs, "777")) == [log]
    assert not search_gateway_logs(logs, "778").exists()
