"""The Celery app. Broker and transport options come from Django settings (see config.settings)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cobranca")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
