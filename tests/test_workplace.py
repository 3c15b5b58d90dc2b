"""The staff site as staff meet it: brand, icon, Portuguese throughout, Brazilian formats, words for
codes, readable gateway data, and every action through a service in "Ações recentes"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from billing.models import Charge, ChargeEvent, ChargeState, GatewayLog, Notification, Payment
from core.audit import log_staff_action
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def portuguese(settings):
    """What staff read: the installation's language, pt-BR."""
    settings.LANGUAGE_CODE = "pt-br"
    with translation.override("pt-br"):
        yield


def pt(msgid: str) -> str:
    with translation.override("pt-br"):
        return translation.gettext(msgid)


@pytest.fixture
def superuser():
    return factories.UserFactory(username="chefe", is_superuser=True)


@pytest.fixture
def operator():
    user = factories.UserFactory(username="operadora")
    user.groups.add(Group.objects.get(name="Billing operators"))
    return user


@pytest.fixture
def reader():
    user = factories.UserFactory(username="leitora")
    user.groups.add(Group.objects.get(name="Billing readers"))
    return user


@pytest.fixture
def customer(juno_account):
    return factories.CustomerFactory(
        bank_account=juno_account, name="Ana Souza", plan_amount=Decimal("119.90")
    )


def _page(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _action(client, url: str, action: str, ids: list[int], **extra: str):
    return client.post(url, {"action": action, "_selected_action": ids, **extra})


# --- brand, icon, the bare address, error pages ---------------------------------------------------
def test_site_is_branded_with_the_product_until_a_provider_is_set(client, superuser):
    html = _page(client, superuser, reverse("admin:index"))
    assert '<div id="site-name"><a href="/admin/">Cobrança</a></div>' in html
    assert "Django" not in html.split("<body")[1].split('id="content"')[0]  # header and nav
    assert "Administração do Django" not in html and "Django administration" not in html

    factories.ProviderFactory(name="Vale Conectado Telecom")
    html = client.get(reverse("admin:index")).content.decode()
    assert '<a href="/admin/">Vale Conectado Telecom</a>' in html
    assert "<title>" in html and "Vale Conectado Telecom · Cobrança</title>" in html
    assert pt("Billing desk") in html


def test_sign_in_page_carries_the_brand_and_no_django_name(client):
    factories.ProviderFactory(name="Vale Conectado Telecom")
    html = client.get(reverse("admin:login")).content.decode()
    assert "Vale Conectado Telecom" in html and "Django" not in html


def test_no_view_site_link_that_leads_nowhere(client, superuser):
    html = _page(client, superuser, reverse("admin:index"))
    assert "Ver o site" not in html and "View site" not in html
    # The bare address itself leads to the sign-in page, not to a "not found".
    assert client.get("/").url == reverse("admin:index")


def test_favicon_is_linked_and_served(client, superuser):
    html = _page(client, superuser, reverse("admin:index"))
    assert 'rel="icon" href="/static/favicon.svg"' in html
    for name in ("favicon.svg", "favicon.ico", "apple-touch-icon.png"):
        assert finders.find(name), name
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url == "/static/favicon.ico"


def test_not_found_page_speaks_portuguese(client):
    response = client.get("/nada-aqui/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Página não encontrada" in html and "Not Found" not in html


# --- Portuguese throughout, third-party apps included -----------------------------------------------
def test_third_party_sections_models_and_fields_are_in_portuguese(client, superuser):
    html = _page(client, superuser, reverse("admin:index"))
    for words in ("Tarefas periódicas", "Bloqueios de login", "Tentativas de login", "Agendas cron"):
        assert words in html, words
    for english in ("Periodic Tasks", "Access attempts", "Crontabs", "Axes"):
        assert english not in html, english

    html = client.get(reverse("admin:django_celery_beat_periodictask_add")).content.decode()
    for words in ("Agenda", "Argumentos", "Opções de execução", "Descrição curta desta tarefa"):
        assert words in html, words
    assert "Execution Options" not in html and "Short Description For This Task" not in html

    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="x",
        ip_address="203.0.113.9",
        user_agent="ua",
        failures_since_start=1,
        get_data="",
        post_data="",
    )
    html = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "Endereço IP" in html and "IP Address" not in html


# --- Brazilian formats ----------------------------------------------------------------------------
def test_money_and_percent_inputs_show_and_accept_the_comma(client, superuser, customer, juno_account):
    html = _page(client, superuser, reverse("admin:customers_customer_change", args=[customer.pk]))
    assert 'name="plan_amount" value="119,90"' in html
    html = client.get(reverse("admin:providers_bankaccount_change", args=[juno_account.pk])).content.decode()
    assert 'name="daily_interest_percent" value="0,033"' in html

    from billing.forms import IssueChargeForm

    form = IssueChargeForm({"amount": "79,90", "due_date": "2099-01-10", "description": "x"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("79.90")


def test_interest_out_of_range_is_reported_with_a_comma(juno_account):
    from providers.forms import BankAccountForm

    form = BankAccountForm(instance=juno_account)
    data = {**form.initial, "daily_interest_percent": "0,5", "fine_percent": "2,00"}
    data = {k: v for k, v in data.items() if v is not None}
    bound = BankAccountForm(data, instance=juno_account)
    assert not bound.is_valid()
    assert "0,5" in str(bound.errors["daily_interest_percent"])


def test_lists_show_short_brazilian_dates_and_decimal_commas(client, superuser, customer):
    factories.ChargeFactory(customer=customer, amount=Decimal("1234.50"), due_date=dt.date(2026, 12, 10))
    html = _page(client, superuser, reverse("admin:billing_charge_changelist"))
    assert "10/12/2026" in html and "1234,50" in html
    assert "1234.50" not in html


def test_cancel_confirmation_shows_money_the_brazilian_way(client, operator, customer):
    charge = factories.ChargeFactory(customer=customer, amount=Decimal("119.90"), state=ChargeState.PENDING)
    client.force_login(operator)
    response = _action(
        client, reverse("admin:billing_charge_changelist"), "cancel_selected_charges", [charge.pk]
    )
    html = response.content.decode()
    assert "R$\u00a0119,90" in html and "119.90" not in html


def test_charge_page_groups_the_linha_digitavel_and_copies_its_digits(client, superuser, customer):
    line = "34191790010104351004791020150008291070026000"
    line = line + "0" * (47 - len(line))
    charge = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED, linha_digitavel=line)
    html = _page(client, superuser, reverse("admin:billing_charge_change", args=[charge.pk]))
    assert f"{line[0:5]}.{line[5:10]} {line[10:15]}.{line[15:21]}" in html
    assert f'id="linha-digitavel" value="{line}"' in html and "data-copy=" in html


PIX = (
    "00020101021226820014br.gov.bcb.pix2560pix.example.com/qr/v2/cobv/9d36b84fc70b478fb95c12729b90ca25"
    "5204000053039865406119.905802BR5905ASAAS6009SAO PAULO62070503***6304ABCD"
)


def test_charge_page_shows_the_pix_code_its_qr_and_a_copy_button(client, superuser, reader, customer):
    charge = factories.ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        pix_payload=PIX,
        pix_expires_at=dt.datetime(2026, 12, 10, 23, 59, tzinfo=dt.UTC),
    )
    url = reverse("admin:billing_charge_change", args=[charge.pk])
    html = _page(client, reader, url)
    assert f'<code class="cobranca-pix-payload" id="pix-payload">{PIX}</code>' in html
    assert '<svg viewBox="0 0' in html and 'class="pix-qr"' in html
    assert 'data-copy="pix-payload"' in html and "Copiar o código PIX" in html
    assert "Pagável até 10/12/2026 20:59" in html  # São Paulo time
    charge.state = ChargeState.PAID
    charge.save(update_fields=["state"])
    paid = _page(client, reader, url)
    assert "cobranca-pix-payload" in paid and "Copiar o código PIX" not in paid  # no copy once paid
    plain = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED)
    html = _page(client, reader, reverse("admin:billing_charge_change", args=[plain.pk]))
    assert "PIX" not in html  # no empty row for a charge without PIX


def test_charge_page_leaves_out_what_the_gateway_did_not_give(client, reader, customer):
    charge = factories.ChargeFactory(
        customer=customer, state=ChargeState.ISSUED, gateway_code="12345", link="https://b.example/1"
    )
    html = _page(client, reader, reverse("admin:billing_charge_change", args=[charge.pk]))
    assert "field-gateway_code" in html and "field-link_display" in html
    for empty in (
        "checkout_url_display",
        "installment_link_display",
        "barcode",
        "our_number",
        "gateway_payload_display",
    ):
        assert f"field-{empty}" not in html, empty
    pending = factories.ChargeFactory(customer=customer, state=ChargeState.PENDING)
    html = _page(client, reader, reverse("admin:billing_charge_change", args=[pending.pk]))
    assert pt("At the gateway") not in html  # nothing reached the gateway: no empty section


# --- words for codes, readable gateway data -------------------------------------------------------
def test_charge_page_history_payments_and_exchanges_in_words(client, superuser, customer, juno_account):
    charge = factories.ChargeFactory(customer=customer, state=ChargeState.PAID, gateway_payload={"code": "9"})
    ChargeEvent.objects.create(
        charge=charge, from_state="", to_state=ChargeState.PENDING, actor_label="load_demo", reason="Created"
    )
    ChargeEvent.objects.create(
        charge=charge,
        from_state=ChargeState.ISSUED,
        to_state=ChargeState.PAID,
        actor_label="task:process_notification",
        reason="Payment confirmed",
    )
    Payment.objects.create(
        charge=charge, gateway="juno", gateway_payment_id="PAY-7", amount=Decimal("1"), status="CHARGEBACK"
    )
    GatewayLog.objects.create(
        bank_account=juno_account,
        gateway="juno",
        endpoint="issue-charge",
        url="u",
        outcome="ok",
        charge=charge,
    )
    html = _page(client, superuser, reverse("admin:billing_charge_change", args=[charge.pk]))
    for words in (
        "Dados de demonstração",
        "Tarefa de processamento de notificação",
        pt("Created"),
        "Chargeback (pagamento estornado)",
        "Notificação do gateway",
        "Emitir cobrança",
        "Trocas com o gateway",
    ):
        assert words in html, words
    for raw in ("task:process_notification", "load_demo", "CHARGEBACK<", "issue-charge<", ">notification<"):
        assert raw not in html, raw
    assert '<table class="cobranca-data">' in html and "{&quot;code&quot;" not in html


def test_payment_and_gateway_log_lists_speak_words(client, superuser, customer, juno_account):
    charge = factories.ChargeFactory(customer=customer)
    Payment.objects.create(
        charge=charge, gateway="juno", gateway_payment_id="PAY-8", amount=Decimal("1"), status="CONFIRMED"
    )
    GatewayLog.objects.create(
        bank_account=juno_account, gateway="juno", endpoint="list-charges", url="u", outcome="ok"
    )
    payments = _page(client, superuser, reverse("admin:billing_payment_changelist"))
    assert "Confirmado (pago)" in payments and ">CONFIRMED<" not in payments
    assert "Juno / Boleto Fácil" in payments  # the gateway filter, in words
    logs = client.get(reverse("admin:billing_gatewaylog_changelist")).content.decode()
    assert "Listar cobranças" in logs and ">list-charges<" not in logs
    payment = Payment.objects.create(
        charge=charge,
        gateway="asaas",
        gateway_payment_id="pay_1",
        amount=Decimal("1"),
        status="RECEIVED",
        type="PIX",
    )
    Payment.objects.filter(pk=payment.pk - 1).update(type="CREDIT_CARD")
    page = client.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()
    assert ">PIX<" in page
    page = client.get(reverse("admin:billing_payment_change", args=[payment.pk - 1])).content.decode()
    assert "Cartão de crédito" in page and "CREDIT_CARD" not in page


def test_notification_body_is_a_table_with_the_raw_text_at_hand(client, superuser, juno_account):
    notification = Notification.objects.create(
        gateway="juno", bank_account=juno_account, path="/p", body="paymentToken=abc&chargeReference=T-1"
    )
    html = _page(client, superuser, reverse("admin:billing_notification_change", args=[notification.pk]))
    assert "<th>paymentToken</th><td>abc</td>" in html
    assert "paymentToken=abc&amp;chargeReference=T-1" in html  # the raw text, one click away


# --- "Ações recentes" and each object's history ------------------------------------------------------
def test_log_staff_action_writes_one_entry_per_object_and_skips_processes(customer, superuser):
    charges = [factories.ChargeFactory(customer=customer) for _ in range(3)]
    assert log_staff_action(user=superuser, objects=charges, message="Cancelada.") == 3
    assert log_staff_action(user=superuser, objects=customer, message="x", flag=ADDITION) == 1
    assert log_staff_action(user=None, objects=charges, message="x") == 0
    entries = LogEntry.objects.filter(user=superuser, action_flag=CHANGE)
    assert sorted(int(e.object_id) for e in entries) == sorted(c.pk for c in charges)
    assert {e.get_change_message() for e in entries} == {"Cancelada."}


def test_cancel_and_retry_appear_in_recent_actions_and_the_charge_history(client, operator, customer):
    pending = factories.ChargeFactory(customer=customer, state=ChargeState.PENDING)
    failed = factories.ChargeFactory(customer=customer, state=ChargeState.FAILED)
    client.force_login(operator)
    url = reverse("admin:billing_charge_changelist")
    _action(client, url, "cancel_selected_charges", [pending.pk], post="yes", reason="Cliente saiu")
    _action(client, url, "retry_failed_charges", [failed.pk], post="yes")

    index = client.get(reverse("admin:index")).content.decode()
    assert pending.reference in index and failed.reference in index
    assert "Cancelada. Motivo: Cliente saiu" in index
    assert "Enviada de novo ao gateway (nova tentativa)." in index
    history = client.get(reverse("admin:billing_charge_history", args=[pending.pk])).content.decode()
    assert "Cancelada. Motivo: Cliente saiu" in history


def test_carne_cancel_is_recorded_on_the_carne_and_each_installment(client, operator, customer):
    carne = factories.CarneFactory(customer=customer)
    installments = [
        factories.ChargeFactory(
            customer=customer,
            carne=carne,
            installment_number=n,
            reference=f"{carne.reference}-{n:02d}",
            state=ChargeState.PENDING,
        )
        for n in (1, 2)
    ]
    client.force_login(operator)
    _action(client, reverse("admin:billing_carne_changelist"), "cancel_carnes", [carne.pk], post="yes")
    assert LogEntry.objects.filter(object_id=str(carne.pk), content_type__model="carne").count() == 1
    for charge in installments:
        assert LogEntry.objects.get(
            object_id=str(charge.pk), content_type__model="charge"
        ).change_message == ("Cancelada.")


# --- the charge list opens on what needs doing --------------------------------------------------------
@pytest.fixture
def spread(customer):
    """Charges around 'today' (10/12/2026): open ones early and late, settled ones in between."""
    day = dt.date(2026, 12, 10)

    def make(state, offset, **extra):
        return factories.ChargeFactory(
            customer=customer, state=state, due_date=day + dt.timedelta(days=offset), **extra
        )

    return {
        "late_3": make(ChargeState.ISSUED, -3),
        "late_10": make(ChargeState.ISSUED, -10),
        "late_45": make(ChargeState.ISSUED, -45),
        "late_90": make(ChargeState.CANCEL_REQUESTED, -90),
        "failed": make(ChargeState.FAILED, 5),
        "next": make(ChargeState.ISSUED, 20),
        "paid": make(ChargeState.PAID, -30),
        "paid_future": make(ChargeState.PAID, 40),
        "cancelled": make(ChargeState.CANCELLED, -5),
    }


def _listed(client, query: str = "") -> list[int]:
    response = client.get(reverse("admin:billing_charge_changelist") + query)
    assert response.status_code == 200
    return [c.pk for c in response.context["cl"].result_list]


@pytest.fixture
def on_the_10th():
    import time_machine

    with time_machine.travel(dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_charges_open_on_open_charges_nearest_due_date_first(client, superuser, spread, on_the_10th):
    client.force_login(superuser)
    expected = ["late_90", "late_45", "late_10", "late_3", "failed", "next"]
    assert _listed(client) == [spread[key].pk for key in expected]
    html = client.get(reverse("admin:billing_charge_changelist")).content.decode()
    assert "Situação: <strong>Em aberto</strong>" in html
    # "All" is a choice that stays chosen, latest due date first.
    everything = _listed(client, "?situacao=todas")
    assert len(everything) == len(spread) and everything[0] == spread["paid_future"].pk
    # A search looks at every state: a paid charge is found by its reference.
    assert _listed(client, f"?q={spread['paid'].reference}") == [spread["paid"].pk]


def test_overdue_filter_by_days_late(client, superuser, spread, on_the_10th, juno_account):
    contra = factories.JunoAccountFactory(name="Contra", contra_apresentacao=True)
    never_late = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=contra),
        bank_account=contra,
        state=ChargeState.ISSUED,
        due_date=dt.date(2026, 11, 1),
    )
    client.force_login(superuser)
    assert _listed(client, "?atraso=8-15") == [spread["late_10"].pk]
    assert _listed(client, "?atraso=31-60") == [spread["late_45"].pk]
    assert _listed(client, "?atraso=61%2B") == [spread["late_90"].pk]
    overdue = set(_listed(client, "?atraso=vencidas"))
    assert overdue == {spread[k].pk for k in ("late_3", "late_10", "late_45", "late_90")}
    assert never_late.pk not in overdue
    html = client.get(reverse("admin:billing_charge_changelist")).content.decode()
    assert "10 dias de atraso" in html and "3 dias de atraso" in html


def test_billing_type_and_account_filters(client, superuser, customer, juno_account, mycontas_account):
    carne = factories.CarneFactory(customer=customer)
    installment = factories.ChargeFactory(customer=customer, carne=carne, installment_number=1)
    single = factories.ChargeFactory(customer=customer)
    other = factories.ChargeFactory(
        customer=factories.CustomerFactory(bank_account=mycontas_account), bank_account=mycontas_account
    )
    client.force_login(superuser)
    assert _listed(client, "?tipo=carne") == [installment.pk]
    assert set(_listed(client, "?tipo=titulo")) == {single.pk, other.pk}
    assert _listed(client, f"?bank_account__id__exact={mycontas_account.pk}") == [other.pk]
    assert "parcela 1/" in client.get(reverse("admin:billing_charge_changelist")).content.decode()


# --- the charge page: read-only where it is, buttons for what may be done ------------------------
def _charge_page(client, user, charge) -> str:
    return _page(client, user, reverse("admin:billing_charge_change", args=[charge.pk]))


def _action_url(charge, name: str) -> str:
    return reverse("admin:billing_charge_object_action", args=[charge.pk, name])


def test_issued_charge_page_has_no_save_and_offers_its_actions(client, operator, reader, customer):
    line = "3" * 47
    charge = factories.ChargeFactory(
        customer=customer,
        state=ChargeState.ISSUED,
        link="https://www.boletobancario.com/boleto/1",
        linha_digitavel=line,
    )
    html = _charge_page(client, operator, charge)
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert f'href="{_action_url(charge, "cancel")}"' in html
    assert 'href="https://www.boletobancario.com/boleto/1"' in html and "Abrir o boleto" in html
    assert f'value="{line}"' in html and "Copiar a linha digitável" in html
    assert _action_url(charge, "send-again") not in html  # only for a failed charge

    html = _charge_page(client, reader, charge)
    assert _action_url(charge, "cancel") not in html  # readers may look, not cancel
    assert "Abrir o boleto" in html


def test_pending_charge_can_still_be_corrected_and_failed_one_sent_again(client, operator, customer):
    pending = factories.ChargeFactory(customer=customer, state=ChargeState.PENDING)
    failed = factories.ChargeFactory(customer=customer, state=ChargeState.FAILED)
    paid = factories.ChargeFactory(customer=customer, state=ChargeState.PAID)
    assert 'name="_save"' in _charge_page(client, operator, pending)
    assert f'href="{_action_url(failed, "send-again")}"' in _charge_page(client, operator, failed)
    html = _charge_page(client, operator, paid)
    assert _action_url(paid, "cancel") not in html and 'name="_save"' not in html


def test_cancel_button_confirms_then_cancels_and_is_recorded(client, operator, customer):
    charge = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED, amount=Decimal("119.90"))
    client.force_login(operator)
    page = client.get(_action_url(charge, "cancel"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cancelar esta cobrança?" in html and 'name="reason"' in html
    charge.refresh_from_db()
    assert charge.state == ChargeState.ISSUED  # nothing happens before the confirmation

    response = client.post(_action_url(charge, "cancel"), {"post": "yes", "reason": "Mudou de endereço"})
    assert response.status_code == 302
    assert response.url == reverse("admin:billing_charge_change", args=[charge.pk])
    charge.refresh_from_db()
    assert charge.state == ChargeState.CANCEL_REQUESTED
    entry = LogEntry.objects.get(object_id=str(charge.pk))
    assert entry.user == operator
    assert entry.change_message == "Cancelamento enviado ao gateway. Motivo: Mudou de endereço"
    assert "Cancelamento enviado ao gateway." in client.get(reverse("admin:index")).content.decode()


def test_actions_are_checked_again_when_posted(client, operator, reader, customer):
    paid = factories.ChargeFactory(customer=customer, state=ChargeState.PAID)
    issued = factories.ChargeFactory(customer=customer, state=ChargeState.ISSUED)
    client.force_login(reader)
    assert client.post(_action_url(issued, "cancel"), {"post": "yes"}).status_code == 403
    client.force_login(operator)
    response = client.post(_action_url(paid, "cancel"), {"post": "yes"}, follow=True)
    paid.refresh_from_db()
    assert paid.state == ChargeState.PAID
    assert "não é possível" in response.content.decode()
    assert client.get(_action_url(issued, "nonsense")).status_code == 404


def test_send_again_requeues_a_failed_charge(client, operator, customer):
    failed = factories.ChargeFactory(customer=customer, state=ChargeState.FAILED)
    client.force_login(operator)
    client.post(_action_url(failed, "send-again"), {"post": "yes"})
    failed.refresh_from_db()
    assert failed.state == ChargeState.PENDING
    assert LogEntry.objects.get(object_id=str(failed.pk)).change_message == (
        "Enviada de novo ao gateway (nova tentativa)."
    )


# --- customers: who is behind, formatted documents, the portal link, actions recorded ---------------
def _customers_listed(client, query: str = "") -> list[int]:
    response = client.get(reverse("admin:customers_customer_changelist") + query)
    assert response.status_code == 200
    return [c.pk for c in response.context["cl"].result_list]


def test_customer_list_shows_and_filters_who_is_behind(client, superuser, juno_account, on_the_10th):
    behind = factories.CustomerFactory(bank_account=juno_account, name="Atrasada")
    for days in (40, 12):
        factories.ChargeFactory(
            customer=behind,
            state=ChargeState.ISSUED,
            due_date=dt.date(2026, 12, 10) - dt.timedelta(days=days),
        )
    slightly = factories.CustomerFactory(bank_account=juno_account, name="Quase em dia")
    factories.ChargeFactory(customer=slightly, state=ChargeState.ISSUED, due_date=dt.date(2026, 12, 7))
    up_to_date = factories.CustomerFactory(bank_account=juno_account, name="Em dia")
    factories.ChargeFactory(customer=up_to_date, state=ChargeState.PAID, due_date=dt.date(2026, 11, 1))
    troubled = factories.CustomerFactory(bank_account=juno_account, name="Com falha")
    factories.ChargeFactory(customer=troubled, state=ChargeState.FAILED)

    client.force_login(superuser)
    html = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "2 · <span" in html and "40 dias de atraso" in html
    assert set(_customers_listed(client, "?atraso=vencidas")) == {behind.pk, slightly.pk}
    assert _customers_listed(client, "?atraso=31-60") == [behind.pk]
    assert _customers_listed(client, "?atraso=1-7") == [slightly.pk]
    assert _customers_listed(client, "?attention=yes") == [troubled.pk]
    assert _customers_listed(client, "?o=4")[0] == behind.pk  # sorted by the oldest overdue charge


def test_customer_page_formats_cep_and_links_the_portal(client, superuser, reader, customer):
    customer.postcode = "01001000"
    customer.save()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    html = _page(client, superuser, url)
    assert 'name="postcode" value="01001-000"' in html
    assert '<a id="portal-link" href="http' in html
    html = _page(client, reader, url)
    assert "01001-000" in html and customer.document_display in html
    assert customer.document not in html.replace(customer.portal_token, "")


def test_customer_page_puts_issuing_at_the_top_for_who_may_issue(client, operator, reader, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    html = _page(client, operator, url)
    tools = html[html.index('class="object-tools"') :]
    tools = tools[: tools.index("</ul>")]
    for name, label in (("issue_charge", "Issue single charge"), ("issue_carne", "Issue carnê")):
        link = reverse(f"admin:customers_customer_{name}", args=[customer.pk])
        assert f'<a href="{link}" class="cobranca-object-action">{pt(label)}</a>' in tools
        assert client.get(link).status_code == 200
    tools = _page(client, reader, url)
    assert pt("Issue single charge") not in tools and pt("Issue carnê") not in tools


def test_customer_page_says_first_where_the_customer_stands(client, reader, customer, on_the_10th):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    html = _page(client, reader, url)
    standing = html[html.index('class="module cobranca-standing"') :]
    standing = standing[: standing.index("</p>")]
    assert "Em dia: nada vencido." in standing and "Nenhuma cobrança em aberto" in standing
    assert html.index("cobranca-standing") < html.index("field-name")  # above the form
    for days in (40, 5):
        factories.ChargeFactory(
            customer=customer,
            state=ChargeState.ISSUED,
            due_date=dt.date(2026, 12, 10) - dt.timedelta(days=days),
        )
    factories.ChargeFactory(customer=customer, state=ChargeState.FAILED, due_date=dt.date(2026, 12, 20))
    factories.ChargeFactory(customer=customer, state=ChargeState.PAID, due_date=dt.date(2026, 11, 10))
    html = _page(client, reader, url)
    standing = html[html.index('class="module cobranca-standing"') :]
    standing = standing[: standing.index("</p>")]
    charges = reverse("admin:billing_charge_changelist") + f"?customer__id__exact={customer.pk}"
    assert f'href="{charges}&amp;atraso=vencidas">2 cobranças vencidas (40 dias de atraso)</a>' in standing
    assert f'href="{charges}&amp;attention=yes">1 cobrança requer atenção</a>' in standing
    assert f'href="{charges}&amp;situacao=aberto">3 cobranças em aberto</a>' in standing
    listed = client.get(f"{charges}&atraso=vencidas").context["cl"].result_list
    assert len(listed) == 2


def test_issuing_and_new_portal_links_are_recorded(client, operator, customer):
    client.force_login(operator)
    response = client.post(
        reverse("admin:customers_customer_issue_charge", args=[customer.pk]),
        {"amount": "79,90", "due_date": "2099-01-10", "description": "Internet"},
    )
    assert response.status_code == 302
    charge = customer.charges.get()
    assert charge.amount == Decimal("79.90")
    assert (
        LogEntry.objects.get(object_id=str(charge.pk), content_type__model="charge").action_flag == ADDITION
    )
    client.post(reverse("admin:customers_customer_renew_portal_link", args=[customer.pk]), {"post": "yes"})
    messages = list(
        LogEntry.objects.filter(object_id=str(customer.pk), content_type__model="customer").values_list(
            "change_message", flat=True
        )
    )
    assert f"Cobrança {charge.reference} emitida." in messages
    assert "Novo link do portal emitido; o antigo deixou de funcionar." in messages


def test_codes_nobody_put_into_words_are_still_readable():
    from billing.labels import endpoint_label, humanize_code, payment_status_label, process_label

    assert humanize_code("CHARGEBACK_REQUESTED") == "Chargeback requested"
    assert payment_status_label("SOMETHING_NEW") == "Something new"
    assert endpoint_label("payments/delete") == "Cancelar cobrança"
    assert endpoint_label("") == "-"
    assert process_label("admin:ana") == "Equipe: ana"
    assert process_label("sweep") == "Varredura horária"


def test_carne_page_is_read_only_with_its_cancel_button(client, operator, reader, customer):
    link = "https://www.boletobancario.com/boletofacil/charge/carne/1"
    carne = factories.CarneFactory(customer=customer, installment_link=link)
    installments = [
        factories.ChargeFactory(
            customer=customer,
            carne=carne,
            installment_number=n,
            reference=f"{carne.reference}-{n:02d}",
            state=ChargeState.PENDING,
        )
        for n in (1, 2)
    ]
    url = reverse("admin:billing_carne_change", args=[carne.pk])
    cancel = reverse("admin:billing_carne_object_action", args=[carne.pk, "cancel"])
    html = _page(client, operator, url)
    assert 'name="_save"' not in html
    assert f'href="{cancel}"' in html and f'href="{link}"' in html
    assert f'href="{cancel}"' not in _page(client, reader, url)

    client.force_login(operator)
    client.post(cancel, {"post": "yes", "reason": "Cliente saiu"})
    carne.refresh_from_db()
    assert carne.state == "cancelled"
    assert {c.state for c in Charge.objects.filter(pk__in=[c.pk for c in installments])} == {
        ChargeState.CANCELLED
    }
    assert LogEntry.objects.get(object_id=str(carne.pk), content_type__model="carne").change_message == (
        "Carnê cancelado: 2 parcelas canceladas ou enviadas para cancelamento. Motivo: Cliente saiu"
    )
    assert LogEntry.objects.filter(content_type__model="charge").count() == 2


def test_provider_cnpj_is_punctuated_in_the_list_and_the_form(client, superuser):
    provider = factories.ProviderFactory(name="Vale Conectado Telecom", document="11222333000181")
    html = _page(client, superuser, reverse("admin:providers_provider_changelist"))
    assert "11.222.333/0001-81" in html
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    assert 'name="document" value="11.222.333/0001-81"' in client.get(url).content.decode()
    response = client.post(url, {"name": provider.name, "document": "11.222.333/0001-80"})
    assert response.status_code == 200 and "CNPJ inválido" in response.content.decode()
    client.post(url, {"name": provider.name, "document": "11.222.333/0001-81", "email": "", "phone": ""})
    provider.refresh_from_db()
    assert provider.document == "11222333000181"


def test_provider_phone_is_kept_the_brazilian_way(client, superuser):
    provider = factories.ProviderFactory(name="Vale Conectado Telecom", document="11222333000181")
    client.force_login(superuser)
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(document="11.222.333/0001-81", phone="+55 11 3333-0000")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider.refresh_from_db()
    assert provider.phone == "(11) 3333-0000"


def test_outbound_events_read_in_words_and_tables(client, superuser):
    from webhooks.models import Delivery, Endpoint, Event, EventType

    endpoint = Endpoint.objects.create(
        name="RADIUS",
        url="https://radius.example.com/hooks",
        secret="segredo-de-teste-0123456789",
        event_types=[EventType.CHARGE_PAID, EventType.CUSTOMER_BLOCKED],
    )
    event = Event.objects.create(
        type=EventType.CUSTOMER_BLOCKED, data={"customer": {"name": "Ana Souza", "radius_username": "ana"}}
    )
    delivery = Delivery.objects.create(
        event=event, endpoint=endpoint, retry_until=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    )
    html = _page(client, superuser, reverse("admin:webhooks_endpoint_changelist"))
    assert f"{pt('Charge paid')}, {pt('Customer blocked')}" in html and "charge.paid" not in html
    html = _page(client, superuser, reverse("admin:webhooks_event_change", args=[event.pk]))
    assert "<tr><th>customer.name</th><td>Ana Souza</td></tr>" in html
    assert '{"customer"' not in html and "customer.blocked" not in html
    html = _page(client, superuser, reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
    assert "<tr><th>data.customer.radius_username</th><td>ana</td></tr>" in html
    assert pt("As received (raw text)") in html  # the signed body as sent, one click away
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=1, last_status=500, last_attempt_at=dt.datetime(2026, 11, 30, 11, 15, tzinfo=dt.UTC)
    )
    html = _page(client, superuser, reverse("admin:webhooks_delivery_changelist"))
    assert "30/11/2026 08:15 · HTTP 500" in html  # São Paulo time, the receiver's answer beside it


def test_runs_and_trust_unblocks_are_titled_the_brazilian_way(customer):
    from billing.models import BillingRun, TrustUnblock

    run = BillingRun.objects.create(month=dt.date(2026, 12, 1))
    assert str(run) == f"12/2026 #{run.pk}"
    unblock = TrustUnblock.objects.create(
        customer=customer,
        cycle=dt.date(2026, 11, 10),
        granted_on=dt.date(2026, 11, 20),
        last_day=dt.date(2026, 11, 25),
    )
    assert str(unblock) == f"{customer} · 11/2026"


def test_billing_run_page_reads_its_reasons_and_errors_in_words(client, superuser):
    from billing.models import BillingRun

    run = BillingRun.objects.create(
        month=dt.date(2026, 12, 1),
        skipped=5,
        reasons={"due date already passed": 1, "already billed this month": 4},
        errors=["Ana Souza (#7): <CEP inválido>"],
    )
    html = _page(client, superuser, reverse("admin:billing_billingrun_change", args=[run.pk]))
    billed, passed = pt("already billed this month"), pt("due date already passed")
    assert f"<tr><th>{billed}</th><td>4</td></tr><tr><th>{passed}</th><td>1</td></tr>" in html  # most first
    assert "already billed this month" not in html
    assert "<p>Ana Souza (#7): &lt;CEP inválido&gt;</p>" in html
