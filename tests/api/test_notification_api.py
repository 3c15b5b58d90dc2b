"""The notification endpoints as HTTP: routing, no CSRF or login, JSON errors, the OpenAPI schema."""

from __future__ import annotations

import re

import pytest
import yaml
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import given
from hypothesis import strategies as st

from billing.models import Notification
from tests import factories
from tests.billing import notifications_support as support

pytestmark = pytest.mark.django_db
juno_sim = support.juno_sim
FORM = "application/x-www-form-urlencoded"


def test_reverse_notification_for_both_gateways(juno_account, mycontas_account):
    juno = reverse("notification", kwargs={"gateway": "juno", "public_id": juno_account.public_id})
    mycontas = reverse(
        "notification", kwargs={"gateway": "mycontas", "public_id": mycontas_account.public_id}
    )
    assert juno == f"/api/notifications/juno/{juno_account.public_id}/"
    assert mycontas == f"/api/notifications/mycontas/{mycontas_account.public_id}/"
    assert resolve(juno).url_name == "juno-notification"
    assert resolve(mycontas).url_name == "mycontas-notification"
    assert resolve("/retorno/juno_confirma.php").url_name == "juno-notification-mkauth"


def test_the_notification_url_staff_paste_is_the_route(juno_account, settings):
    from providers.services import notification_url

    settings.PUBLIC_BASE_URL = "https://cobranca.example.com"
    url = notification_url(juno_account)
    assert url.removeprefix(settings.PUBLIC_BASE_URL) == reverse(
        "notification", kwargs={"gateway": "juno", "public_id": juno_account.public_id}
    )


def test_no_csrf_token_and_no_login_are_needed(juno_account):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("notification", kwargs={"gateway": "juno", "public_id": juno_account.public_id}),
        data="paymentToken=",
        content_type=FORM,
    )
    assert response.status_code == 400  # reached the view: the empty token is the only complaint
    assert set(response.json()["errors"]) == {"paymentToken"}


def test_other_methods_are_405_json(client, juno_account):
    response = client.get(f"/api/notifications/juno/{juno_account.public_id}/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert not Notification.objects.exists()


def test_posts_under_the_default_limits_are_all_answered(client, juno_account):
    url = f"/api/notifications/juno/{juno_account.public_id}/"
    codes = {client.post(url, data="x=1", content_type=FORM).status_code for _ in range(30)}
    assert codes == {400}


def test_errors_are_json_with_the_stored_id(client):
    response = client.post("/api/notifications/juno/nobody/", data="paymentToken=A", content_type=FORM)
    assert response.status_code == 404
    body = response.json()
    assert body["notification"] == Notification.objects.get().pk
    assert body["detail"]


# --- schema and docs -----------------------------------------------------------------------------------
def _schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_describes_the_four_endpoints(client):
    schema = _schema(client)
    assert set(schema["paths"]) == {
        "/api/notifications/juno/{public_id}/",
        "/api/notifications/mycontas/{public_id}/",
        "/api/notifications/asaas/{public_id}/",
        "/retorno/juno_confirma.php",
    }
    juno = schema["paths"]["/api/notifications/juno/{public_id}/"]["post"]
    assert set(juno["requestBody"]["content"]) == {FORM}
    assert set(juno["responses"]) == {"200", "400", "404", "429", "503"}
    mycontas = schema["paths"]["/api/notifications/mycontas/{public_id}/"]["post"]
    assert set(mycontas["responses"]) == {"200", "400", "403", "404", "429", "503"}
    legacy = schema["paths"]["/retorno/juno_confirma.php"]["post"]
    assert set(legacy["responses"]) == {"200", "400", "429", "503"}  # never tells a charge exists
    asaas = schema["paths"]["/api/notifications/asaas/{public_id}/"]["post"]
    assert set(asaas["requestBody"]["content"]) == {"application/json"}
    assert set(asaas["responses"]) == {"200", "400", "401", "404", "429", "503"}
    token = next(p for p in asaas["parameters"] if p["name"] == "asaas-access-token")
    assert token["in"] == "header" and not token.get("required")
    webhook = schema["components"]["schemas"]["AsaasWebhookBody"]
    assert webhook["required"] == ["event", "payment"]
    payment = schema["components"]["schemas"]["AsaasPaymentHint"]
    assert payment["required"] == ["id"] and payment["properties"]["externalReference"]["nullable"]
    for operation in (juno, mycontas, legacy, asaas):
        for code in ("429", "503"):
            assert "Retry-After" in operation["responses"][code]["headers"]
    status = schema["components"]["schemas"]["NotificationAnswer"]["properties"]["status"]
    enum = status["allOf"][0]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][enum]["enum"] == ["received"]
    form = schema["components"]["schemas"]["JunoNotificationForm"]
    assert form["required"] == ["paymentToken"]
    assert form["properties"]["paymentToken"]["maxLength"] == 128
    for response in juno["responses"].values():
        assert set(response["content"]) == {"application/json"}


#: The characters where trimming, lengths and NUL meet.
EDGY_TEXT = st.text(alphabet=st.sampled_from(" \t\n\u3000\u00a0ab\x00"), max_size=140)


@pytest.mark.django_db(False)
@given(value=EDGY_TEXT, reference=EDGY_TEXT | st.text(alphabet="ab ", min_size=250, max_size=260))
def test_the_asaas_schema_accepts_what_the_service_accepts(value, reference):
    from billing.api.serializers import AsaasPaymentHint
    from billing.services.notifications import asaas
    from gateways.base import NotificationInvalid

    fields = AsaasPaymentHint().fields
    for name, body in (
        ("id", {"event": "PAYMENT_RECEIVED", "payment": {"id": value}}),
        ("externalReference", {"event": "E", "payment": {"id": "pay_1", "externalReference": reference}}),
    ):
        given_value = body["payment"][name]
        try:
            asaas.parse(body)
            accepted = True
        except NotificationInvalid:
            accepted = False
        pattern = fields[name].validators[-1].regex
        assert accepted == bool(re.search(pattern, given_value)), (name, given_value)


def test_the_schema_is_also_json(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_docs_page_renders_without_scripts(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script" not in html and "cdn" not in html.lower()
    for text in (
        "/api/notifications/juno/{public_id}/",
        "paymentToken",
        "txtCod_senha",
        "503",
        "/api/schema/",
    ):
        assert text in html


def test_the_product_mounts_no_benchmark_view(client, settings):
    assert not hasattr(settings, "BENCH_BASELINE_VIEW")
    response = client.post("/bench/baseline/", data="a=1", content_type=FORM)
    assert response.status_code == 404
    assert not Notification.objects.exists()


def test_the_benchmark_mounts_its_baseline_itself(client, settings):
    """bench/notifications.py's baseline (a): the endpoints' stack storing the body, from bench/."""
    settings.ROOT_URLCONF = "bench.urls"
    response = client.post("/bench/baseline/", data="paymentToken=A1", content_type=FORM)
    assert response.status_code == 200
    assert Notification.objects.get(pk=response.json()["notification"]).body == "paymentToken=A1"
    assert resolve("/api/notifications/juno/x/").url_name == "juno-notification"  # the product's too


def test_the_mycontas_endpoint_refuses_a_juno_account(client):
    account = factories.JunoAccountFactory()
    response = client.post(
        f"/api/notifications/mycontas/{account.public_id}/",
        data="txtCod_cliente=A&txtCod_senha=B&txtReferencia=C&cobrancaID=1",
        content_type=FORM,
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/notifications/juno//", "/api/notifications/juno/a/b/", "/api/notifications/"]
)
def test_other_paths_under_notifications_are_json_404(client, path):
    response = client.post(path, data="paymentToken=A", content_type=FORM)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_the_shipped_nginx_site_rate_limits_the_notification_paths():
    import re
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "cobranca.conf").read_text()
    zones = set(re.findall(r"^limit_req_zone \$binary_remote_addr zone=(\w+):\S+ rate=\d+r/s;", conf, re.M))
    blocks = re.findall(r"^    location ~ (\S+) \{\n(.*?)^    \}", conf, re.M | re.S)
    for path in (
        "/api/notifications/juno/abc/",
        "/api/notifications/mycontas/abc/",
        "/retorno/juno_confirma.php",
    ):
        matching = [body for pattern, body in blocks if re.search(pattern, path)]
        assert matching, path
        limited = re.search(r"^\s+limit_req zone=(\w+) ", matching[0], re.M)
        assert limited and limited.group(1) in zones, path
        assert "limit_req_status 429;" in matching[0]
    assert not any(re.search(pattern, "/admin/") or re.search(pattern, "/portal/x/") for pattern, _ in blocks)
