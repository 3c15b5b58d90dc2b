"""The notifications admin's "reprocess" action: a confirmation page, then the one processing service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from billing.models import ChargeState, Notification, NotificationStatus, Payment
from tests import factories
from tests.billing import notifications_support as support
from tests.billing.notifications_support import issued_charge, sim_pay

pytestmark = pytest.mark.django_db
juno_sim = support.juno_sim
CHANGELIST = "admin:billing_notification_changelist"


@pytest.fixture
def waiting(juno_account, juno_sim):
    """A notification the gateway could not be asked about (now it can)."""
    charge = issued_charge(juno_account)
    paid = sim_pay(juno_sim, charge)
    notification = Notification.objects.create(
        gateway="juno",
        bank_account=juno_account,
        path="/x",
        body=f"paymentToken={paid['paymentToken']}&chargeReference={charge.reference}",
        status=NotificationStatus.RETRYING,
    )
    return notification, charge


def _staff(*perms: str):
    user = factories.UserFactory()
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_reprocess_asks_first_then_processes(client, waiting):
    notification, charge = waiting
    client.force_login(_staff("view_notification", "change_notification"))
    data = {"action": "reprocess_selected", "_selected_action": [notification.pk]}

    page = client.post(reverse(CHANGELIST), data)
    assert page.status_code == 200
    assert any(
        text.encode() in page.content
        for text in ("Process these notifications again?", "Processar estas notificações novamente?")
    )
    assert not Payment.objects.exists()

    done = client.post(reverse(CHANGELIST), {**data, "post": "yes"}, follow=True)
    assert done.status_code == 200
    # The outcome in words, in the message and in the notification's history (Ações recentes).
    from django.contrib.admin.models import LogEntry

    from billing.labels import notification_outcome_label

    words = notification_outcome_label("processed")
    assert f"{words}: 1" in done.content.decode()
    assert LogEntry.objects.get(object_id=str(notification.pk)).change_message.endswith(f"{words}.")
    notification.refresh_from_db()
    charge.refresh_from_db()
    assert notification.status == NotificationStatus.PROCESSED
    assert charge.state == ChargeState.PAID
    assert Payment.objects.count() == 1

    client.post(reverse(CHANGELIST), {**data, "post": "yes"})
    assert Payment.objects.count() == 1


def test_reprocess_needs_the_change_permission(client, waiting):
    notification, _charge = waiting
    client.force_login(_staff("view_notification"))
    changelist = client.get(reverse(CHANGELIST))
    assert b"reprocess_selected" not in changelist.content
    response = client.post(
        reverse(CHANGELIST),
        {"action": "reprocess_selected", "_selected_action": [notification.pk], "post": "yes"},
    )
    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.RETRYING


def test_the_notification_admin_stays_read_only(client, waiting):
    notification, _charge = waiting
    client.force_login(_staff("view_notification", "change_notification"))
    page = client.get(reverse("admin:billing_notification_change", args=[notification.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
