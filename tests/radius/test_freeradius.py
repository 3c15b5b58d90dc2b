"""FreeRADIUS itself, reading the tables radius.store writes: the group decides the reply attributes."""

from __future__ import annotations

import uuid

import pytest

from radius import freeradius, store
from tests.radius.freeradius_support import access_request, forget_user, seed_group, seed_user

# One process owns the FreeRADIUS tables and its server under pytest-xdist.
pytestmark = pytest.mark.xdist_group("radius")

BLOCKED = {"Framed-Pool": "bloqueados", "Mikrotik-Rate-Limit": "128k/128k"}
PLAN = {"Framed-Pool": "clientes", "Mikrotik-Rate-Limit": "100M/100M"}


@pytest.fixture
def subscriber(radius_server):
    username = f"sub-{uuid.uuid4().hex[:10]}"
    seed_user(radius_server.database_url, username, "pppoe-pass")
    seed_group(radius_server.database_url, "test-bloqueado", BLOCKED)
    seed_group(radius_server.database_url, "test-plano-100m", PLAN)
    yield username
    forget_user(radius_server.database_url, username)


def test_the_group_written_by_the_store_is_what_the_access_accept_carries(radius_server, subscriber):
    url = radius_server.database_url
    with store.connect(url) as conn:
        store.assign(conn, [store.Assignment(subscriber, "test-bloqueado")])
    answer = access_request(radius_server, subscriber, "pppoe-pass")
    assert answer.code == "Access-Accept"
    assert answer.attributes["Framed-Pool"] == ["bloqueados"]
    assert answer.attributes["Mikrotik-Rate-Limit"] == ["128k/128k"]

    with store.connect(url) as conn:
        store.assign(conn, [store.Assignment(subscriber, "test-plano-100m")])
        assert store.groups_of(conn, subscriber) == ["test-plano-100m"]
    answer = access_request(radius_server, subscriber, "pppoe-pass")
    assert answer.code == "Access-Accept"
    assert answer.attributes["Framed-Pool"] == ["clientes"]
    assert answer.attributes["Mikrotik-Rate-Limit"] == ["100M/100M"]


def test_a_wrong_password_is_rejected_whatever_the_group(radius_server, subscriber):
    with store.connect(radius_server.database_url) as conn:
        store.assign(conn, [store.Assignment(subscriber, "test-plano-100m")])
    assert access_request(radius_server, subscriber, "wrong").code == "Access-Reject"


def test_no_group_left_means_no_group_attributes(radius_server, subscriber):
    with store.connect(radius_server.database_url) as conn:
        store.assign(conn, [store.Assignment(subscriber, "test-bloqueado")])
        store.assign(conn, [store.Assignment(subscriber, "")])
        assert store.groups_of(conn, subscriber) == []
    answer = access_request(radius_server, subscriber, "pppoe-pass")
    assert answer.code == "Access-Accept"
    assert "Framed-Pool" not in answer.attributes


def test_assign_replaces_every_row_of_the_user_in_one_go(radius_server):
    url = radius_server.database_url
    names = [f"bulk-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    with store.connect(url) as conn:
        conn.execute(
            "INSERT INTO radusergroup (username, groupname, priority) VALUES (%s, 'other', 5)", (names[0],)
        )
        written = store.assign(conn, [store.Assignment(n, "g1") for n in names])
        assert written == 3
        assert [store.groups_of(conn, n) for n in names] == [["g1"], ["g1"], ["g1"]]
        store.assign(conn, [store.Assignment(n, "") for n in names])


def test_ensure_schema_is_idempotent(radius_server):
    assert freeradius.ensure_schema(radius_server.database_url) is False


def test_connection_kwargs_parse_the_url_and_refuse_other_engines():
    kwargs = store.connection_kwargs("postgres://radius:p%40ss@db.example:6543/radius")
    assert kwargs["dbname"] == "radius" and kwargs["user"] == "radius"
    assert kwargs["password"] == "p@ss" and kwargs["host"] == "db.example" and kwargs["port"] == 6543
    with pytest.raises(ValueError, match="PostgreSQL"):
        store.connection_kwargs("sqlite:///radius.db")


def test_the_config_quotes_values_literally(tmp_path):
    path = freeradius.write_config(
        tmp_path, port=11812, secret="it's ${x}", database_url="postgres://u:pw@127.0.0.1:5432/r"
    )
    text = path.read_text()
    assert "secret = 'it\\'s ${x}'" in text
    assert "port = 11812" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
