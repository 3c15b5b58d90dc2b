"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core import queue
from tests import factories


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``xdist_group`` run last, each group on one test process as a whole (``--dist
    loadgroup``, with pyproject.toml's ``--no-loadscope-reorder`` keeping this order). pytest-django
    runs transactional tests after the others because their flush removes what the migrations wrote
    (staff groups, periodic tasks); a group handed out earlier would carry its transactional tests
    ahead of the plain tests that need that data."""
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is not None)


@pytest.fixture
def local_cache(settings):
    """One private in-memory cache for the test: the portal's and the intake's counters and the
    second copy's memory live in the cache, and a shared one would let tests see each other's."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def notification_limits_off(settings):
    """The intake's per-address and per-account counters live in the shared cache for a minute:
    off by default so that tests never count each other's posts. The limit tests turn them on."""
    settings.NOTIFICATION_ADDRESS_LIMIT = 0
    settings.NOTIFICATION_ACCOUNT_LIMIT = 0


@pytest.fixture(autouse=True)
def known_accounts_forgotten():
    """The intake's memory of accounts lives in the process: each test starts without it."""
    from billing.services.notifications import known_accounts

    known_accounts.forget()
    yield
    known_accounts.forget()


@pytest.fixture(autouse=True)
def notification_queue(monkeypatch):
    """No test reaches a broker through the notification intake: its wake-ups of the dispatcher are
    counted here, and ``notification_queue.run()`` dispatches and processes as the workers would."""
    from tests.billing.notifications_support import NotificationQueue

    queue = NotificationQueue()
    monkeypatch.setattr("billing.services.notifications.inbox.wake_dispatcher", queue.wake)
    return queue


@pytest.fixture
def provider(db):
    return factories.ProviderFactory()


@pytest.fixture
def juno_account(db):
    return factories.JunoAccountFactory()


@pytest.fixture
def mycontas_account(db):
    return factories.MycontasAccountFactory()


@pytest.fixture
def customer(juno_account):
    return factories.CustomerFactory(bank_account=juno_account)


@pytest.fixture
def sent_tasks(monkeypatch):
    """What ``core.queue`` hands to the broker (after commit), as (task name, args, countdown)."""
    sent = []
    monkeypatch.setattr(
        queue, "publish", lambda name, args, countdown: sent.append((name, list(args), countdown))
    )
    return sent
