"""A self-contained FreeRADIUS configuration that authenticates from a PostgreSQL database.

What CI and the tests start, and a working example for a provider wiring their own server: Debian's
``freeradius`` with ``rlm_sql_postgresql`` on FreeRADIUS's standard schema, one client (the NAS, or
radtest/radclient on loopback), PAP passwords from ``radcheck``, reply attributes from
``radreply`` and, per group in ``radusergroup``, from ``radgroupreply``.

The configuration is written into one directory (nothing under /etc is touched), so several servers
can run side by side on different ports.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from radius import store

#: Debian's copy of FreeRADIUS's SQL queries and schema (package freeradius-postgresql/freeradius).
MODS_CONFIG = Path("/etc/freeradius/3.0/mods-config")
SCHEMA = MODS_CONFIG / "sql/main/postgresql/schema.sql"


def executable() -> str | None:
    """The FreeRADIUS daemon (Debian names it ``freeradius``; upstream ``radiusd``)."""
    return shutil.which("freeradius") or shutil.which("radiusd")


def _quoted(value: object) -> str:
    """A single-quoted FreeRADIUS string: taken literally (no ``${...}`` expansion)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_config(*, directory: Path, port: int, secret: str, database_url: str, address: str) -> str:
    db = store.connection_kwargs(database_url)
    return f"""# Written by cobranca (radius.freeradius): FreeRADIUS on {address}:{port}, users in PostgreSQL.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = {directory}/log
raddbdir = {directory}
radacctdir = {directory}/radacct
name = freeradius
confdir = ${{raddbdir}}
modconfdir = {MODS_CONFIG}
run_dir = {directory}/run
db_dir = {directory}
libdir = /usr/lib/freeradius
pidfile = ${{run_dir}}/${{name}}.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {{
  destination = files
  file = ${{logdir}}/radius.log
  auth = yes
}}
security {{
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}}
thread pool {{
  start_servers = 2
  max_servers = 4
  min_spare_servers = 1
  max_spare_servers = 3
  max_requests_per_server = 0
}}
client loopback {{
  ipaddr = {address}
  secret = {_quoted(secret)}
  require_message_authenticator = no
}}
modules {{
  expr {{
  }}
  pap {{
  }}
  sql {{
    dialect = "postgresql"
    driver = "rlm_sql_postgresql"
    postgresql {{
      send_application_name = yes
    }}
    server = {_quoted(db.get("host", "localhost"))}
    port = {int(db.get("port", 5432))}
    login = {_quoted(db.get("user", ""))}
    password = {_quoted(db.get("password", ""))}
    radius_db = {_quoted(db["dbname"])}
    acct_table1 = "radacct"
    acct_table2 = "radacct"
    postauth_table = "radpostauth"
    authcheck_table = "radcheck"
    groupcheck_table = "radgroupcheck"
    authreply_table = "radreply"
    groupreply_table = "radgroupreply"
    usergroup_table = "radusergroup"
    delete_stale_sessions = yes
    read_groups = yes
    read_clients = no
    client_table = "nas"
    group_attribute = "SQL-Group"
    pool {{
      start = 1
      min = 1
      max = 4
      spare = 2
      uses = 0
      retry_delay = 1
      lifetime = 0
      idle_timeout = 60
    }}
    $INCLUDE ${{modconfdir}}/sql/main/${{dialect}}/queries.conf
  }}
}}
server default {{
  listen {{
    type = auth
    ipaddr = {address}
    port = {port}
  }}
  authorize {{
    sql
    pap
  }}
  authenticate {{
    Auth-Type PAP {{
      pap
    }}
  }}
  post-auth {{
  }}
}}
"""


def write_config(
    directory: Path, *, port: int, secret: str, database_url: str, address: str = "127.0.0.1"
) -> Path:
    """Write ``radiusd.conf`` (and the folders it names) into ``directory``; returns the file.

    The file holds the database password and the client secret: it is readable by its owner only.
    """
    directory = directory.resolve()
    for sub in ("log", "run", "radacct"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    (directory / "dictionary").touch()  # FreeRADIUS reads the local dictionary; Debian's covers us
    path = directory / "radiusd.conf"
    path.write_text(
        render_config(
            directory=directory, port=port, secret=secret, database_url=database_url, address=address
        )
    )
    path.chmod(0o600)
    return path


def ensure_schema(database_url: str) -> bool:
    """Create FreeRADIUS's standard tables when the database has none; True when it created them."""
    with store.connect(database_url) as conn:
        if store.has_schema(conn):
            return False
        conn.execute(SCHEMA.read_text())
    return True
