"""Run the reminder schedule over the demo data as if it had run on each of the last days, writing
the e-mails to files under var/mail/.

The demo then shows real reminder log rows (on the overdue customers' pages and in Inadimplência e
lembretes › Lembretes) without any mail server. Idempotent, like the schedule itself: each step goes out once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.management.base import BaseCommand

from core.dates import today
from dunning import services
from dunning.models import Outcome, ReminderLog

#: The schedule is replayed over this many past days, so that the demo has sent every step.
REPLAYED_DAYS = 12


class Command(BaseCommand):
    help = "Send the demo's reminders (the last days' schedule); e-mails are written to var/mail/."

    def handle(self, *args: Any, **options: Any) -> None:
        folder = settings.BASE_DIR / "var" / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        connection = get_connection("django.core.mail.backends.filebased.EmailBackend", file_path=str(folder))
        sent = 0
        for days_ago in range(REPLAYED_DAYS, -1, -1):
            day = today() - dt.timedelta(days=days_ago)
            summary = services.reminders_queue(today=day, enqueue=False)
            queued = list(ReminderLog.objects.filter(run=summary.run).values_list("pk", flat=True))
            counts = services.reminders_send(log_ids=queued, today=day, email_connection=connection)
            sent += counts.get(Outcome.SENT, 0)
        self.stdout.write(self.style.SUCCESS(f"Reminders: {sent} sent (e-mails written to {folder})."))
