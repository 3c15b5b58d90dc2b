"""The look-up: absence proved, or nothing resent (gateways.lookup and the Juno adapter's listing)."""

from __future__ import annotations

import codecs
import datetime as dt
import json
from decimal import Decimal

import pytest
import responses

from gateways.base import GatewayUnavailable, IssuedCharge, LookupOutcome
from gateways.juno import adapter as juno_adapter
from gateways.juno.adapter import JunoGateway
from gateways.lookup import decide
from tests.gateways.conftest import PAYER_CPF, charge_request, due_in, juno_config

URL = "https://juno.test/boletofacil/integration/api/v1/"
DUE = dt.date(2099, 1, 10)
REQUEST = charge_request(reference="T-OURS", due_date=DUE, amount=Decimal("89.90"))


def listed(code: str, **fields: object) -> IssuedCharge:
    values: dict[str, object] = {"code": code, "due_date": DUE}
    values.update(fields)
    return IssuedCharge(**values)  # type: ignore[arg-type]


def run(*charges: IssuedCharge, complete: bool = True, request=REQUEST, due_dates=(DUE,)):
    return decide(request, charges, due_dates=due_dates, complete=complete)


# --- the rules ------------------------------------------------------------------------------------
def test_our_reference_is_found_whatever_else_is_listed():
    result = run(listed("1"), listed("2", reference="T-OURS"), complete=False)
    assert result.outcome == LookupOutcome.FOUND
    assert [c.code for c in result.charges] == ["2"]
    assert result.matched_by == "reference"


def test_absence_is_proved_only_when_every_charge_carries_a_reference():
    assert run(listed("1", reference="T-OTHER")).outcome == LookupOutcome.PROVED_ABSENT
    assert run().outcome == LookupOutcome.PROVED_ABSENT  # nothing due in the window at all
    # The SDK fixtures' answers carry no reference: a charge without one may be ours.
    unreferenced = run(listed("1", reference="T-OTHER"), listed("2"))
    assert unreferenced.outcome == LookupOutcome.CANDIDATES
    assert [c.code for c in unreferenced.candidates] == ["2"]


def test_a_listing_not_read_to_its_end_proves_nothing():
    result = run(listed("1", reference="T-OTHER"), complete=False)
    assert result.outcome == LookupOutcome.CANDIDATES
    assert not result.complete
    assert result.reason  # told to staff, in their language


def test_one_charge_without_reference_that_matches_is_adopted():
    match = listed("9", amount=Decimal("89.9"), payer_document=PAYER_CPF, link="https://b/9")
    result = run(listed("1", reference="T-OTHER"), match)
    assert result.outcome == LookupOutcome.FOUND
    assert result.matched_by == "fields"
    assert result.charges == (match,)


def test_what_a_charge_carries_must_all_agree():
    """A different amount, payer, description or installment count is someone else's charge."""
    ours = {"amount": Decimal("89.90"), "payer_document": PAYER_CPF}
    others = [
        listed("1", **{**ours, "amount": Decimal("89.91")}),
        listed("2", **{**ours, "payer_document": "11222333000181"}),
        listed("3", **ours, description="Outro serviço"),
        listed("4", **ours, installments=3),
    ]
    result = run(*others)
    assert result.outcome == LookupOutcome.CANDIDATES  # not proved absent: they carry no reference
    assert result.candidates == ()
    same_words = listed("5", **ours, description="Internet 100 Mb  Mensalidade 11/2026")
    assert run(*others, same_words).charges == (same_words,)


def test_amount_and_due_day_alone_never_identify_a_boleto():
    """Every subscriber of the same plan shares them: without the payer's document, staff decide."""
    result = run(listed("1", amount=Decimal("89.90")))
    assert result.outcome == LookupOutcome.CANDIDATES
    assert [c.code for c in result.candidates] == ["1"]


def test_two_matches_or_an_undecidable_neighbour_leave_it_to_staff():
    ours = {"amount": Decimal("89.90"), "payer_document": PAYER_CPF}
    twin = [listed("1", **ours), listed("2", **ours)]
    assert run(*twin).outcome == LookupOutcome.CANDIDATES
    no_amount = listed("3")  # carries neither amount nor payer: cannot be told apart
    moved = listed("4", **ours, due_date=DUE + dt.timedelta(days=2))
    result = run(listed("5", **ours), no_amount, moved)
    assert result.outcome == LookupOutcome.CANDIDATES
    assert {c.code for c in result.candidates} == {"3", "4", "5"}


def test_a_carne_is_found_by_fields_only_when_every_installment_matches_once():
    request = charge_request(reference="C-OURS", due_date=DUE, amount=Decimal("50.00"), installments=3)
    dates = (DUE, dt.date(2099, 2, 10), dt.date(2099, 3, 10))
    parts = [
        listed(str(i), due_date=d, amount=Decimal("50.00"), payer_document=PAYER_CPF)
        for i, d in enumerate(dates)
    ]
    found = run(*parts, request=request, due_dates=dates)
    assert found.outcome == LookupOutcome.FOUND
    assert [c.code for c in found.charges] == ["0", "1", "2"]
    missing_one = run(*parts[:2], request=request, due_dates=dates)
    assert missing_one.outcome == LookupOutcome.CANDIDATES


# --- the Juno adapter reads every page ------------------------------------------------------------
def gateway() -> JunoGateway:
    return JunoGateway(juno_config(), base_url=URL)


def page(charges: list[dict], **extra: object) -> dict:
    return {"success": True, "data": {"charges": charges, **extra}}


def sdk_charge(code: int, **extra: object) -> dict:
    """As Boleto Fácil's SDK fixtures list a charge: no reference, formatted payNumber."""
    return {
        "code": code,
        "dueDate": DUE.strftime("%d/%m/%Y"),
        "link": f"https://sandbox.boletobancario.com/boletofacil/charge/boleto.pdf?token={code}",
        "payNumber": "03399.63290 64000.001014 00236.601027 8 67150000025000",
        **extra,
    }


@responses.activate
def test_every_announced_page_is_read_and_then_it_is_complete():
    responses.post(URL + "list-charges", json=page([sdk_charge(1, reference="A")], hasMore=True))
    responses.post(URL + "list-charges", json=page([sdk_charge(2, reference="B")], nextPage=3))
    responses.post(URL + "list-charges", json=page([sdk_charge(3, reference="T-OURS")]))
    result = gateway().look_up(REQUEST, due_dates=(DUE,))
    assert result.outcome == LookupOutcome.FOUND and result.examined == 3
    pages = [dict(p.split("=") for p in c.request.body.split("&")).get("page") for c in responses.calls]
    assert pages == [None, "2", "3"]


@responses.activate
def test_a_page_that_fails_fails_the_look_up(monkeypatch):
    responses.post(URL + "list-charges", json=page([sdk_charge(1, reference="A")], hasMore=True))
    responses.post(URL + "list-charges", status=503)
    with pytest.raises(GatewayUnavailable):
        gateway().look_up(REQUEST, due_dates=(DUE,))


@responses.activate
def test_endless_pages_or_unreadable_entries_are_never_proof(monkeypatch):
    monkeypatch.setattr(juno_adapter, "MAX_PAGES", 2)
    for _ in range(2):
        responses.post(URL + "list-charges", json=page([sdk_charge(1, reference="A")], hasMore=True))
    endless = gateway().look_up(REQUEST, due_dates=(DUE,))
    assert (endless.outcome, endless.complete) == (LookupOutcome.CANDIDATES, False)
    responses.reset()
    responses.post(URL + "list-charges", json=page([sdk_charge(1, reference="A"), {"reference": "B"}, 7]))
    unreadable = gateway().look_up(REQUEST, due_dates=(DUE,))
    assert (unreadable.outcome, unreadable.complete) == (LookupOutcome.CANDIDATES, False)


@responses.activate
def test_sdk_shaped_listing_with_bom_is_matched_on_what_it_carries():
    body = page(
        [
            sdk_charge(101, amount=89.9, payer={"cpfCnpj": "529.982.247-25"}),
            sdk_charge(102, amount=25.0),
            sdk_charge(103, amount=89.9, payer={"cpfCnpj": "11.222.333/0001-81"}),
        ]
    )
    responses.post(URL + "list-charges", body=codecs.BOM_UTF8 + json.dumps(body).encode())
    result = gateway().look_up(REQUEST, due_dates=(DUE,))
    assert result.outcome == LookupOutcome.FOUND
    (charge,) = result.charges
    assert (charge.code, charge.payer_document, charge.amount) == ("101", PAYER_CPF, Decimal("89.90"))
    assert charge.linha_digitavel == "03399632906400000101400236601027867150000025000"
    assert charge.reference == charge.checkout_url == charge.installment_link == ""


def test_the_simulator_pages_its_listing_and_the_adapter_reads_them_all(juno_sim, settings):
    juno_sim.page_size = 2
    adapter = JunoGateway(juno_config(), base_url=settings.JUNO_BASE_URL)
    codes = [adapter.issue(charge_request(reference=f"T-{i}")).charges[0].code for i in range(5)]
    listing = adapter.list_due(due_from=due_in(0), due_to=due_in(30))
    assert listing.complete
    assert sorted(c.code for c in listing.charges) == sorted(codes)
    assert juno_sim.requests_seen == 5 + 3  # five issues, three pages


def test_the_asaas_adapter_answers_look_ups_with_the_same_result(asaas_sim):
    """Asaas filters by reference itself: found by reference, or proved absent."""
    from gateways.asaas.adapter import AsaasGateway
    from tests.gateways.conftest import asaas_config

    adapter = AsaasGateway(asaas_config(), base_url=asaas_sim.api_url)
    carne = charge_request(reference="C-ASAAS", installments=3)
    issued = adapter.issue(carne).charges
    found = adapter.look_up(carne, due_dates=tuple(c.due_date for c in issued if c.due_date))
    assert (found.outcome, found.matched_by) == (LookupOutcome.FOUND, "reference")
    assert [c.code for c in found.charges] == [c.code for c in issued]
    absent = charge_request(reference="T-NEVER")
    assert adapter.look_up(absent, due_dates=(absent.due_date,)).outcome == LookupOutcome.PROVED_ABSENT
