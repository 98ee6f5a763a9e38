# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one connection path of the collection's modules.

Both modules build their argument spec from ``connection_argument_spec()`` and open the
server with ``connect()``, so option names, error messages and the version check are the
same everywhere. Option names and aliases follow community.postgresql, so playbooks
written for it keep working.
"""

from __future__ import absolute_import, division, print_function


import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import psycopg2
    import psycopg2.extras

    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised only without the driver
    psycopg2 = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

# Oldest major version whose catalog columns the modules know (wal_status, written_lsn...).
MIN_SERVER_MAJOR = 13

SSL_MODES = ["allow", "disable", "prefer", "require", "verify-ca", "verify-full"]

# Parts of libpq's messages that tell an authentication failure from a network failure.
_AUTH_MARKERS = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "fe_sendauth",
    "no pg_hba.conf entry",
    "role \"",
)


class ConnectionFailure(Exception):
    """Raised with a message meant for the person running the playbook."""


def connection_argument_spec():
    """Options shared by every module; documented in the ``connection`` doc fragment."""
    return dict(
        login_user=dict(type="str", default="postgres", aliases=["login"]),
        login_password=dict(type="str", default="", no_log=True),
        login_host=dict(type="str", default="", aliases=["host"]),
        login_unix_socket=dict(type="str", default="", aliases=["unix_socket"]),
        login_port=dict(type="int", default=5432, aliases=["port"]),
        login_db=dict(type="str", default="postgres", aliases=["db"]),
        ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
        ca_cert=dict(type="str", aliases=["ssl_rootcert"]),
        ssl_cert=dict(type="path"),
        ssl_key=dict(type="path", no_log=False),
        connect_timeout=dict(type="int", default=10),
        connect_params=dict(type="dict", default={}),
        session_role=dict(type="str"),
    )


def ensure_driver(module):
    """Fail the module with Ansible's standard message when psycopg2 is missing."""
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib("psycopg2"), exception=PSYCOPG2_IMPORT_ERROR)


def build_conn_kwargs(params):
    """Map module parameters to libpq keywords (pure; unit-tested)."""
    kwargs = {
        "user": params.get("login_user"),
        "password": params.get("login_password"),
        "host": params.get("login_unix_socket") or params.get("login_host"),
        "port": params.get("login_port"),
        "dbname": params.get("login_db"),
        "sslmode": params.get("ssl_mode"),
        "sslrootcert": params.get("ca_cert"),
        "sslcert": params.get("ssl_cert"),
        "sslkey": params.get("ssl_key"),
        "connect_timeout": params.get("connect_timeout"),
        "application_name": "pgrepl.streaming",
    }
    kwargs.update(params.get("connect_params") or {})
    # Empty values mean "let libpq decide" (e.g. no host = default socket directory).
    return dict((k, v) for k, v in kwargs.items() if v not in (None, ""))


def describe_target(kwargs):
    """Human-readable 'user@host:port/db' for error messages (never the password)."""
    host = kwargs.get("host") or "local socket"
    return "%s@%s:%s/%s" % (
        kwargs.get("user", "?"), host, kwargs.get("port", 5432), kwargs.get("dbname", "?")
    )


def classify_error(message):
    """'authentication' or 'connection', from the text of a libpq error (pure)."""
    lowered = message.lower()
    if any(marker in lowered for marker in _AUTH_MARKERS):
        return "authentication"
    return "connection"


def server_major(server_version_num):
    """Major version from server_version_num (150018 -> 15)."""
    return int(server_version_num) // 10000


def open_connection(params):
    """Connect, check the server version, apply session_role; raise ConnectionFailure.

    The connection is in autocommit: the replication functions the modules call cannot
    run inside a transaction block (slot creation) or should not hold one open (status).
    """
    kwargs = build_conn_kwargs(params)
    target = describe_target(kwargs)
    try:
        conn = psycopg2.connect(**kwargs)
    except psycopg2.OperationalError as exc:
        text = str(exc).strip()
        if classify_error(text) == "authentication":
            raise ConnectionFailure(
                "authentication failed for %s: %s" % (target, text)
            ) from exc
        raise ConnectionFailure(
            "cannot connect to PostgreSQL at %s: %s" % (target, text)
        ) from exc
    conn.autocommit = True
    major = server_major(conn.server_version)
    if major < MIN_SERVER_MAJOR:
        conn.close()
        raise ConnectionFailure(
            "PostgreSQL %d or later is required, %s runs %s"
            % (MIN_SERVER_MAJOR, target, conn.server_version)
        )
    if params.get("session_role"):
        _set_role(conn, params["session_role"])
    return conn


def _set_role(conn, role):
    from psycopg2 import sql

    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    except psycopg2.Error as exc:
        conn.close()
        raise ConnectionFailure(
            "could not switch to session_role %r: %s" % (role, exc)
        ) from exc


def connect(module):
    """Open a connection for ``module`` or fail it with a clear message."""
    ensure_driver(module)
    try:
        return open_connection(module.params)
    except ConnectionFailure as exc:
        module.fail_json(msg=str(exc))


def fetch_all(conn, query, args=None):
    """Run a query and return rows as dicts (column name -> value)."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(query, args)
        return [dict(row) for row in cur.fetchall()]


def fetch_one(conn, query, args=None):
    """First row as a dict, or None."""
    rows = fetch_all(conn, query, args)
    return rows[0] if rows else None


def mogrify(conn, query, args=None):
    """The exact statement psycopg2 would send (for ``queries`` in results)."""
    with conn.cursor() as cur:
        return cur.mogrify(query, args).decode("utf-8")


def db_errors():
    """The exception classes a statement can raise (none without the driver)."""
    return (psycopg2.Error,) if HAS_PSYCOPG2 else ()


def server_message(exc):
    """The server's own text of a database error."""
    return (getattr(exc, "pgerror", None) or str(exc)).strip()
