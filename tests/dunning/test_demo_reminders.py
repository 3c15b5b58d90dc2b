"""The demo: overdue customers with a reminder log, and a printable carnê."""

from __future__ import annotations

from django.core.management import call_command

from billing.models import Carne
from core.dates import today
from dunning.models import Outcome, ReminderLog
from dunning.selectors import overdue_groups
from tests.factories import UserFactory


def test_demo_has_an_overdue_customer_a_reminder_log_and_a_printable_carne(db, client, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    call_command("load_demo")
    call_command("demo_reminders")
    call_command("demo_reminders")  # idempotent: each step once

    assert overdue_groups(today=today()).exists()
    sent = ReminderLog.objects.filter(outcome=Outcome.SENT)
    assert sent.exists()
    assert sent.count() == len(set(sent.values_list("charge_id", "step_days", "channel")))
    assert list((tmp_path / "var" / "mail").iterdir())

    client.force_login(UserFactory(is_superuser=True))
    carne = Carne.objects.get()
    page = client.get(f"/print/carne/{carne.pk}/").content.decode()
    assert page.count('<svg role="img"') >= 1
