"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

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
