"""Login lockouts: per username at an address, and per address alone (spraying usernames is locked)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-pass!"


@pytest.fixture
def limits(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
    UserFactory(username="operador", is_superuser=True, password=PASSWORD)
    return settings


def login(client, username: str, password: str, address: str = "203.0.113.5") -> int:
    response = client.post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )
    return response.status_code


def locked(status: int) -> bool:
    return status in (403, 429)


def test_spraying_usernames_from_one_address_is_locked(client, limits):
    # Six usernames, one wrong password each: never three failures for one username. The sixth
    # failure reaches the address's limit.
    assert [login(client, f"user{n}", "wrong") for n in range(5)] == [200] * 5
    assert locked(login(client, "user5", "wrong"))
    # The address is locked, even for a real user with the right password ...
    assert locked(login(client, "operador", PASSWORD))
    # ... but not another address.
    assert login(client, "operador", PASSWORD, address="198.51.100.9") == 302


def test_below_the_address_limit_other_users_still_log_in(client, limits):
    assert [login(client, f"user{n}", "wrong") for n in range(5)] == [200] * 5
    assert login(client, "operador", PASSWORD) == 302


def test_one_username_is_locked_at_one_address_after_its_own_limit(client, limits):
    assert [login(client, "operador", "wrong") for _ in range(2)] == [200, 200]
    assert locked(login(client, "operador", "wrong"))
    assert locked(login(client, "operador", PASSWORD))
    assert login(client, "operador", PASSWORD, address="198.51.100.9") == 302


def test_a_successful_login_forgives_only_its_own_failures(client, limits):
    UserFactory(username="leitor", password=PASSWORD, is_staff=True)
    assert login(client, "leitor", "wrong") == 200
    assert [login(client, f"user{n}", "wrong") for n in range(4)] == [200] * 4
    assert login(client, "leitor", PASSWORD) == 302  # its own one failure is forgotten, not the four
    client.logout()
    assert login(client, "user9", "wrong") == 200  # five failures at the address
    assert locked(login(client, "user10", "wrong"))  # the sixth reaches the address limit
