"""The Celery app. Broker and transport options come from Django settings (see config.settings).

Task modules: ``tasks`` and ``notification_tasks`` in every installed app that has them, found by
autodiscovery (a worker at start; a web process on its first :func:`core.queue.enqueue`).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("cobranca")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="notification_tasks")


@task_prerun.connect
@task_postrun.connect
def recycle_database_connections(task: Any = None, **kwargs: Any) -> None:
    """Between tasks, as Django does between requests: drop connections that are too old (past
    CONN_MAX_AGE) or broken, keep the rest. Eager tasks run inside the caller's transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
