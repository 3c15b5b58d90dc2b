"""Named, expiring leases in the database: "only one sweep at a time", across every machine.

Taking a lease is one conditional ``UPDATE`` (the row is free, expired, or already ours), or — the
first time a name is used — one ``INSERT`` that the unique name makes fail for all but one caller.
No row lock is held while the work runs: the holder extends the lease with :func:`lease_heartbeat`
and gives it back with :func:`lease_release`, which also stamps ``last_finished_at`` (``/health/``
reports its age). A holder that dies simply lets the lease expire; the next caller takes it over.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.models import Lease

SWEEP = "sweep"
RECONCILIATION = "reconciliation"


def new_holder() -> str:
    """Who holds a lease: host, process and a random part (two threads never share one)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lease_acquire(name: str, *, holder: str, ttl: dt.timedelta) -> bool:
    """Take ``name`` for ``ttl`` if it is free, expired or already held by ``holder``."""
    now = timezone.now()
    taken = (
        Lease.objects.filter(name=name)
        .filter(Q(expires_at__lte=now) | Q(holder=holder) | Q(holder=""))
        .update(holder=holder, expires_at=now + ttl)
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=now + ttl)
    except IntegrityError:  # the row exists and someone else holds it
        return False
    return True


def lease_heartbeat(name: str, *, holder: str, ttl: dt.timedelta) -> bool:
    """Extend our lease; False when it was lost (expired and taken over): stop working then."""
    return bool(Lease.objects.filter(name=name, holder=holder).update(expires_at=timezone.now() + ttl))


def lease_release(name: str, *, holder: str, finished: bool = True) -> bool:
    """Give the lease back; with ``finished`` record that the job completed now."""
    now = timezone.now()
    fields: dict[str, object] = {"holder": "", "expires_at": now}
    if finished:
        fields["last_finished_at"] = now
    return bool(Lease.objects.filter(name=name, holder=holder).update(**fields))


class LeaseHeld(Exception):
    """Another process holds the lease."""


@contextmanager
def lease(name: str, *, ttl: dt.timedelta, holder: str | None = None) -> Iterator[str]:
    """Hold ``name`` for the block; raise :class:`LeaseHeld` if someone else has it.

    ``last_finished_at`` is stamped only when the block completes without an exception.
    """
    holder = holder or new_holder()
    if not lease_acquire(name, holder=holder, ttl=ttl):
        raise LeaseHeld(name)
    finished = False
    try:
        yield holder
        finished = True
    finally:
        lease_release(name, holder=holder, finished=finished)
