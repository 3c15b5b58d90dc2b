"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from core import queue
from tests import factories


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
