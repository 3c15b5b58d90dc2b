"""FreeRADIUS's standard SQL schema (``radusergroup``), reached with psycopg on a database of its own.

This module knows no Django model: it takes ``(username, group)`` pairs and makes the table say
exactly that. FreeRADIUS reads ``radusergroup`` on every Access-Request (``read_groups = yes``), so
a change here is what the next authentication of the subscriber sees.

A username's rows are replaced as a whole: the product owns the group membership of the usernames it
manages; a user with no group left gets FreeRADIUS's defaults (radcheck/radreply only).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import environ
import psycopg

#: FreeRADIUS processes a user's groups by ascending priority; the product writes one row.
GROUP_PRIORITY = 1
CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Assignment:
    """``username`` belongs to ``group`` (or, when ``group`` is empty, to no group at all)."""

    username: str
    group: str


def connection_kwargs(url: str) -> dict[str, Any]:
    """psycopg's keyword arguments for a ``postgres://user:password@host:port/name`` URL."""
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config.get("ENGINE", ""):
        raise ValueError("RADIUS_DATABASE_URL must be a PostgreSQL URL (postgres://...)")
    kwargs = {
        "dbname": config.get("NAME") or "",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": "cobranca-radius",
    }
    return {key: value for key, value in kwargs.items() if value not in (None, "")}


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection]:
    """One connection, one transaction: committed when the block ends, rolled back on error."""
    with psycopg.connect(**connection_kwargs(url)) as conn:
        yield conn


def assign(conn: psycopg.Connection, assignments: Sequence[Assignment]) -> int:
    """Make ``radusergroup`` hold exactly these groups for these usernames; returns rows written.

    Two statements whatever the number of users: FreeRADIUS sees either the old rows or the new
    ones (one transaction), never a user without a group in between.
    """
    names = [a.username for a in assignments]
    rows = [a for a in assignments if a.group]
    if not names:
        return 0
    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM radusergroup WHERE username = ANY(%s)", (names,))
        if rows:
            cursor.execute(
                "INSERT INTO radusergroup (username, groupname, priority)"
                " SELECT u, g, %s FROM unnest(%s::text[], %s::text[]) AS t(u, g)",
                (GROUP_PRIORITY, [a.username for a in rows], [a.group for a in rows]),
            )
    return len(rows)


def groups_of(conn: psycopg.Connection, username: str) -> list[str]:
    """The user's groups in the order FreeRADIUS applies them."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT groupname FROM radusergroup WHERE username = %s ORDER BY priority, id", (username,)
        )
        return [row[0] for row in cursor.fetchall()]


def has_schema(conn: psycopg.Connection) -> bool:
    with conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass('radusergroup') IS NOT NULL")
        row = cursor.fetchone()
    return bool(row and row[0])
