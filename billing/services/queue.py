"""Hands work to Celery after the current transaction commits.

Enqueueing inside the transaction would let a worker read the row before it is committed (or after
it was rolled back); ``on_commit`` sends the message only once the state change is durable.
"""

from __future__ import annotations

from django.db import transaction


def enqueue_issue(charge_id: int) -> None:
    from billing.tasks import issue_charge

    transaction.on_commit(lambda: issue_charge.delay(charge_id))


def enqueue_cancel(charge_id: int) -> None:
    from billing.tasks import cancel_charge

    transaction.on_commit(lambda: cancel_charge.delay(charge_id))
