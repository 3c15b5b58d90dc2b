"""The Celery app. Broker and transport options come from Django settings (see config.settings).

Task modules: ``billing.tasks`` (issue, cancel, sweep) and ``billing.notification_tasks``
(notifications, reconciliation) in every installed app that has them.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cobranca")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="notification_tasks")
