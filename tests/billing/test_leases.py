"""Database leases: one holder at a time, taken over once expired, finish time recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from billing.models import Lease
from billing.services import leases

pytestmark = pytest.mark.django_db
TTL = dt.timedelta(minutes=10)


def test_first_acquire_creates_the_row_and_excludes_others():
    assert leases.lease_acquire("sweep", holder="a", ttl=TTL)
    assert not leases.lease_acquire("sweep", holder="b", ttl=TTL)
    assert Lease.objects.get(name="sweep").holder == "a"


def test_holder_may_acquire_again_and_heartbeat():
    assert leases.lease_acquire("sweep", holder="a", ttl=dt.timedelta(seconds=1))
    assert leases.lease_acquire("sweep", holder="a", ttl=TTL)
    before = Lease.objects.get(name="sweep").expires_at
    assert leases.lease_heartbeat("sweep", holder="a", ttl=dt.timedelta(hours=1))
    assert Lease.objects.get(name="sweep").expires_at > before
    assert not leases.lease_heartbeat("sweep", holder="b", ttl=TTL)


def test_expired_lease_is_taken_over_and_the_old_holder_notices():
    leases.lease_acquire("sweep", holder="dead", ttl=TTL)
    Lease.objects.filter(name="sweep").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert leases.lease_acquire("sweep", holder="b", ttl=TTL)
    assert not leases.lease_heartbeat("sweep", holder="dead", ttl=TTL)
    assert not leases.lease_release("sweep", holder="dead")


def test_release_frees_and_stamps_last_finished_at():
    leases.lease_acquire("sweep", holder="a", ttl=TTL)
    assert leases.lease_release("sweep", holder="a")
    row = Lease.objects.get(name="sweep")
    assert row.last_finished_at is not None and row.holder == ""
    assert leases.lease_acquire("sweep", holder="b", ttl=TTL)


def test_context_manager_stamps_only_on_success():
    with pytest.raises(RuntimeError), leases.lease("reconciliation", ttl=TTL):
        raise RuntimeError("boom")
    assert Lease.objects.get(name="reconciliation").last_finished_at is None
    with (
        leases.lease("reconciliation", ttl=TTL),
        pytest.raises(leases.LeaseHeld),
        leases.lease("reconciliation", ttl=TTL),
    ):
        pass
    assert Lease.objects.get(name="reconciliation").last_finished_at is not None


def test_holders_are_unique():
    assert len({leases.new_holder() for _ in range(100)}) == 100
