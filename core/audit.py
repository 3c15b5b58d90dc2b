"""What staff did through a service, written to Django's admin log.

The admin records its own add/change/delete forms in ``LogEntry``; actions that go through a
service (cancel a charge, retry it, issue a carnê, change billing types in bulk...) do not pass
through those forms, so without this they would appear neither in "Ações recentes" on the index
page nor on the object's "Histórico" page. Every admin view or action that calls a service on
behalf of a staff member calls :func:`log_staff_action` once the service has succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import models
from django_stubs_ext import StrOrPromise

__all__ = ["ADDITION", "CHANGE", "DELETION", "log_staff_action"]

#: Rows written per INSERT when a bulk action touched many objects.
BATCH_SIZE = 500


def log_staff_action(
    *,
    user: Any,
    objects: models.Model | Iterable[models.Model],
    message: StrOrPromise,
    flag: int = CHANGE,
) -> int:
    """Record ``message`` as done by ``user`` to each of ``objects``; returns the rows written.

    ``message`` is what staff read in the object's history (already translated, in the language
    of the person who acted, as Django's own entries are). ``flag`` is ``CHANGE`` unless the
    action created (``ADDITION``) or removed (``DELETION``) the object. Nothing is written for an
    anonymous or missing user: tasks and gateway notifications have their own audit trails.
    """
    user_id = getattr(user, "pk", None)
    if user_id is None or not getattr(user, "is_authenticated", False):
        return 0
    items = [objects] if isinstance(objects, models.Model) else objects
    text = str(message)
    written = 0
    batch: list[models.Model] = []
    for obj in items:
        batch.append(obj)
        if len(batch) == BATCH_SIZE:
            written += _write(user_id, batch, flag, text)
            batch = []
    if batch:
        written += _write(user_id, batch, flag, text)
    return written


def _write(user_id: Any, objects: list[models.Model], flag: int, text: str) -> int:
    return len(LogEntry.objects.log_actions(user_id, objects, flag, text))
