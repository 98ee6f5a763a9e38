"""pg_replication_user through the real ``ansible`` CLI against the lab's primary.

Every role created here is dropped again. The lab's pg_hba.conf (initdb
--auth=scram-sha-256) admits any role over TCP on 127.0.0.1 with a SCRAM password, for
ordinary and for replication connections, so logins prove which password a role has.
"""

from __future__ import annotations

import contextlib
import hashlib
import time

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import pytest

from ansible_collections.pgrepl.streaming.plugins.module_utils import scram
from ansible_collections.pgrepl.streaming.plugins.modules import pg_replication_user as mod

from .pgcluster import free_port

MODULE = "pg_replication_user"
FIRST = "it-First-Secret-7f3a"
SECOND = "it-Second-Secret-9c2e"


def role(node, name):
    """(rolcanlogin, rolreplication, rolpassword) of ``name``, or None."""
    rows = node.sql("SELECT rolcanlogin, rolreplication, rolpassword FROM pg_authid"
                    " WHERE rolname = %s", (name,))
    return rows[0] if rows else None


def can_log_in(node, user, password, replication=False):
    """Whether ``user`` logs in over TCP with ``password`` (SCRAM, libpq's own code)."""
    extra = {}
    if replication:
        extra = {"connection_factory": psycopg2.extras.PhysicalReplicationConnection}
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=node.port, user=user,
                                password=password, dbname="postgres", connect_timeout=10,
                                **extra)
    except psycopg2.OperationalError as exc:
        assert "password authentication failed" in str(exc)
        return False
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("IDENTIFY_SYSTEM" if replication else "SELECT current_user")
        assert cur.fetchone()
    return True


@pytest.fixture
def cleanup(lab):
    """Names of roles a test creates; dropped afterwards if still there."""
    names: list[str] = []
    yield names
    for name in names:
        if role(lab.primary, name) is not None:
            lab.primary.sql("DROP OWNED BY %s" % name)
            lab.primary.sql("DROP ROLE %s" % name)


def test_lifecycle(lab, module, cleanup):
    cleanup.append("it_repl")
    node = lab.primary
    args = {"name": "it_repl", "password": FIRST}

    dry = module(MODULE, args, check=True)
    assert not dry.failed and dry.changed, dry.msg
    expected = ["CREATE ROLE \"it_repl\" WITH LOGIN REPLICATION PASSWORD '********'"]
    assert dry["queries"] == expected and dry["role"] is None
    assert role(node, "it_repl") is None

    made = module(MODULE, args)
    assert made.changed and made["queries"] == expected
    assert made["role"] == {"name": "it_repl", "login": True, "replication": True,
                            "password_type": "scram-sha-256"}
    login, replication, stored = role(node, "it_repl")
    assert login and replication and scram.verifier_matches(stored, FIRST)
    assert can_log_in(node, "it_repl", FIRST)
    assert can_log_in(node, "it_repl", FIRST, replication=True)
    assert not can_log_in(node, "it_repl", SECOND)

    again = module(MODULE, args)
    assert not again.failed and not again.changed and again["queries"] == []
    assert role(node, "it_repl")[2] == stored  # not even a new salt
    assert not module(MODULE, args, check=True).changed

    # New password: predicted, then done; the old one stops working.
    dry_change = module(MODULE, dict(args, password=SECOND), check=True)
    assert dry_change.changed
    assert dry_change["queries"] == [
        "ALTER ROLE \"it_repl\" WITH PASSWORD '********'"]
    assert role(node, "it_repl")[2] == stored
    changed = module(MODULE, dict(args, password=SECOND))
    assert changed.changed and changed["queries"] == dry_change["queries"]
    assert can_log_in(node, "it_repl", SECOND)
    assert can_log_in(node, "it_repl", SECOND, replication=True)
    assert not can_log_in(node, "it_repl", FIRST)
    assert not module(MODULE, dict(args, password=SECOND)).changed

    dry_drop = module(MODULE, {"name": "it_repl", "state": "absent"}, check=True)
    assert dry_drop.changed and dry_drop["queries"] == ["DROP ROLE \"it_repl\""]
    assert role(node, "it_repl") is not None
    dropped = module(MODULE, {"name": "it_repl", "state": "absent"})
    assert dropped.changed and dropped["role"] is None and role(node, "it_repl") is None
    gone = module(MODULE, {"name": "it_repl", "state": "absent"})
    assert not gone.failed and not gone.changed and gone["queries"] == []


def test_results_never_hold_the_password_or_verifier(lab, module, cleanup):
    cleanup.append("it_secret")
    for check in (True, False, False):
        result = module(MODULE, {"name": "it_secret", "password": FIRST}, check=check)
        assert not result.failed, result.msg
        assert FIRST not in result.stdout and FIRST not in result.stderr
        assert "SCRAM-SHA-256$" not in result.stdout
    stored = role(lab.primary, "it_secret")[2]
    assert stored.split("$")[2] not in result.stdout


def test_attributes_follow_the_options(lab, module, cleanup):
    cleanup.append("it_attrs")
    node = lab.primary
    made = module(MODULE, {"name": "it_attrs", "password": FIRST, "login": False,
                           "replication": False})
    assert made["queries"] == [
        "CREATE ROLE \"it_attrs\" WITH NOLOGIN NOREPLICATION PASSWORD '********'"]
    assert role(node, "it_attrs")[:2] == (False, False)
    # Only what differs is altered; the matching password is left alone.
    stored = role(node, "it_attrs")[2]
    fixed = module(MODULE, {"name": "it_attrs", "password": FIRST})
    assert fixed.changed and fixed["queries"] == [
        "ALTER ROLE \"it_attrs\" WITH LOGIN REPLICATION"]
    assert role(node, "it_attrs") == (True, True, stored)
    node.sql("ALTER ROLE it_attrs NOREPLICATION")
    again = module(MODULE, {"name": "it_attrs", "password": FIRST})
    assert again["queries"] == ["ALTER ROLE \"it_attrs\" WITH REPLICATION"]
    assert role(node, "it_attrs") == (True, True, stored)


def test_nologin_role_cannot_log_in(lab, module, cleanup):
    cleanup.append("it_nologin")
    assert module(MODULE, {"name": "it_nologin", "password": FIRST, "login": False}).changed
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        psycopg2.connect(host="127.0.0.1", port=lab.primary.port, user="it_nologin",
                         password=FIRST, dbname="postgres")


@pytest.mark.parametrize("stored", ["md5", "null"])
def test_md5_or_missing_password_is_replaced(lab, module, cleanup, stored):
    name = "it_%s_pw" % stored
    cleanup.append(name)
    if stored == "md5":
        md5 = "md5" + hashlib.md5((FIRST + name).encode()).hexdigest()
        lab.primary.sql("CREATE ROLE %s LOGIN REPLICATION PASSWORD %%s" % name, (md5,))
    else:
        lab.primary.sql("CREATE ROLE %s LOGIN REPLICATION" % name)
    result = module(MODULE, {"name": name, "password": FIRST})
    assert result.changed
    assert result["queries"] == ["ALTER ROLE \"%s\" WITH PASSWORD '********'" % name]
    assert result["role"]["password_type"] == "scram-sha-256"
    assert scram.verifier_matches(role(lab.primary, name)[2], FIRST)
    assert can_log_in(lab.primary, name, FIRST)


def test_a_verifier_made_by_libpq_is_recognised(lab, module, cleanup):
    """psycopg2's encrypt_password is libpq's PQencryptPasswordConn (psql's \\password)."""
    cleanup.append("it_libpq")
    with contextlib.closing(lab.primary.connect()) as conn:
        verifier = psycopg2.extensions.encrypt_password(FIRST, "it_libpq", scope=conn,
                                                        algorithm="scram-sha-256")
    assert scram.verifier_matches(verifier, FIRST)
    assert not scram.verifier_matches(verifier, SECOND)
    lab.primary.sql("CREATE ROLE it_libpq LOGIN REPLICATION PASSWORD %s", (verifier,))
    result = module(MODULE, {"name": "it_libpq", "password": FIRST})
    assert not result.failed and not result.changed and result["queries"] == []
    assert role(lab.primary, "it_libpq")[2] == verifier


def test_non_ascii_password_logs_in_through_libpq(lab, module, cleanup):
    """libpq applies SASLprep when it logs in; the verifier must have been made the same way.

    Decomposed a + diaeresis, a soft hyphen and an ideographic space all change under
    SASLprep, so a verifier of the raw UTF-8 bytes would not let this password in.
    """
    cleanup.append("it_unicode")
    password = "pa\u0308ss\u00adw\u3000rd-\u2168"
    assert scram.saslprep(password) != password.encode("utf-8")
    assert module(MODULE, {"name": "it_unicode", "password": password}).changed
    assert can_log_in(lab.primary, "it_unicode", password)
    assert can_log_in(lab.primary, "it_unicode", "p\u00e4ssw rd-IX")  # same after SASLprep
    assert not module(MODULE, {"name": "it_unicode", "password": password}).changed


@contextlib.contextmanager
def log_statement_all(node):
    """Log every statement of every new session, as a server with log_statement=all does."""
    node.sql("ALTER SYSTEM SET log_statement = 'all'")
    node.sql("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + 30
        while node.scalar("SHOW log_statement") != "all":
            assert time.monotonic() < deadline, "log_statement = all was not applied"
            time.sleep(0.1)
        yield
    finally:
        node.sql("ALTER SYSTEM RESET log_statement")
        node.sql("SELECT pg_reload_conf()")


def test_plain_password_never_reaches_the_server_log(lab, module, cleanup):
    cleanup.append("it_logged")
    node = lab.primary
    start = node.log.stat().st_size
    with log_statement_all(node):
        made = module(MODULE, {"name": "it_logged", "password": FIRST})
        changed = module(MODULE, {"name": "it_logged", "password": SECOND})
        assert made.changed and changed.changed
        node.sql("SELECT 'it_logged marker'")
    with open(node.log, "rb") as log:
        log.seek(start)
        text = log.read().decode("utf-8", "replace")
    # The statements were logged (so the check below means something) ...
    assert "CREATE ROLE \"it_logged\" WITH LOGIN REPLICATION PASSWORD 'SCRAM-SHA-256$" in text
    assert "ALTER ROLE \"it_logged\" WITH PASSWORD 'SCRAM-SHA-256$" in text
    assert "it_logged marker" in text
    # ... and carry only verifiers, never a password.
    assert FIRST not in text and SECOND not in text
    assert can_log_in(node, "it_logged", SECOND)


def test_dropping_a_role_that_owns_objects_shows_the_server_error(lab, module, cleanup):
    cleanup.append("it_owner")
    assert module(MODULE, {"name": "it_owner", "password": FIRST}).changed
    lab.primary.sql("CREATE TABLE it_owned (i int)")
    lab.primary.sql("ALTER TABLE it_owned OWNER TO it_owner")
    try:
        result = module(MODULE, {"name": "it_owner", "state": "absent"})
        assert result.failed and not result.changed
        assert result.msg.startswith("could not drop role 'it_owner': ")
        assert "some objects depend on it" in result.msg and "it_owned" in result.msg
        assert result["queries"] == ["DROP ROLE \"it_owner\""]
        assert result["role"]["name"] == "it_owner"
        assert role(lab.primary, "it_owner") is not None
    finally:
        lab.primary.sql("DROP TABLE it_owned")
    assert module(MODULE, {"name": "it_owner", "state": "absent"}).changed


def test_a_non_superuser_is_refused_clearly(lab, module, cleanup):
    cleanup.extend(["it_plain", "it_target"])
    lab.primary.sql("CREATE ROLE it_plain LOGIN CREATEROLE PASSWORD %s", (FIRST,))
    for check in (True, False):
        result = module(MODULE, {"name": "it_target", "password": SECOND,
                                 "login_user": "it_plain", "login_password": FIRST},
                        check=check)
        assert result.failed and not result.changed
        assert "'it_plain' is not a superuser" in result.msg and "pg_authid" in result.msg
        assert result["queries"] == []
    assert role(lab.primary, "it_target") is None


@pytest.mark.parametrize("name", ["Replicator", "repl-1", "x" * 64, "", "pg_repl",
                                  "x\"; DROP TABLE t; --", "it_ok\n"])
def test_invalid_names_fail_before_connecting(lab, module, name):
    lab.primary.sql("CREATE TABLE IF NOT EXISTS t(i int)")
    for port in ({}, {"login_port": free_port()}):  # a closed port: never connected
        result = module(MODULE, dict({"name": name, "password": FIRST}, **port))
        assert result.failed and result.msg.startswith("invalid role name")
        assert result["queries"] == []
    assert lab.primary.scalar("SELECT to_regclass('t') IS NOT NULL") is True


def test_password_is_required_and_checked_before_connecting(lab, module):
    offline = {"login_port": free_port()}
    missing = module(MODULE, dict({"name": "it_nopw"}, **offline))
    assert missing.failed and "password" in missing.msg
    empty = module(MODULE, dict({"name": "it_nopw", "password": ""}, **offline))
    assert empty.failed and "must not be empty" in empty.msg
    # absent needs none; against the closed port it then fails on connecting
    absent = module(MODULE, dict({"name": "it_nopw", "state": "absent"}, **offline))
    assert absent.failed and "cannot connect" in absent.msg
    assert role(lab.primary, "it_nopw") is None


# ------------------------------------------------------------------ rewind: pg_rewind's grants

REWIND_FUNCTIONS = list(mod.REWIND_FUNCTIONS)


def executable(node, name):
    """The REWIND_FUNCTIONS ``name`` may execute, as the server says (has_function_privilege)."""
    return [f for f in REWIND_FUNCTIONS
            if node.scalar("SELECT has_function_privilege(%s, %s, 'EXECUTE')", (name, f))]


def grant_queries(name, functions, verb="GRANT"):
    to_from = "TO" if verb == "GRANT" else "FROM"
    return ["%s EXECUTE ON FUNCTION %s %s \"%s\"" % (verb, f, to_from, name) for f in functions]


def rewind_calls_as(node, user, password):
    """Call, logged in as ``user``, each function the way pg_rewind does; the failures."""
    calls = {
        "pg_catalog.pg_ls_dir(text, boolean, boolean)": "SELECT pg_ls_dir('.', true, false)",
        "pg_catalog.pg_stat_file(text, boolean)": "SELECT pg_stat_file('PG_VERSION', true)",
        "pg_catalog.pg_read_binary_file(text)": "SELECT pg_read_binary_file('PG_VERSION')",
        "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)":
            "SELECT pg_read_binary_file('PG_VERSION', 0, 2, true)",
    }
    assert sorted(calls) == sorted(REWIND_FUNCTIONS)
    refused = []
    conn = psycopg2.connect(host="127.0.0.1", port=node.port, user=user, password=password,
                            dbname="postgres", connect_timeout=10)
    conn.autocommit = True
    with contextlib.closing(conn):
        for function, query in calls.items():
            with conn.cursor() as cur:
                try:
                    cur.execute(query)
                    assert cur.fetchall()
                except psycopg2.errors.InsufficientPrivilege:
                    refused.append(function)
    return refused


def test_rewind_grants_what_pg_rewind_calls(lab, module, cleanup):
    cleanup.append("it_rewind")
    node = lab.primary
    args = {"name": "it_rewind", "password": FIRST, "rewind": True}
    create = ["CREATE ROLE \"it_rewind\" WITH LOGIN REPLICATION PASSWORD '********'"]

    dry = module(MODULE, args, check=True)
    assert not dry.failed and dry.changed, dry.msg
    assert dry["rewind_granted"] == REWIND_FUNCTIONS and dry["rewind_revoked"] == []
    assert dry["queries"] == create + grant_queries("it_rewind", REWIND_FUNCTIONS)
    assert role(node, "it_rewind") is None

    made = module(MODULE, args)
    assert not made.failed and made.changed, made.msg
    assert made["rewind_granted"] == REWIND_FUNCTIONS
    assert made["queries"] == dry["queries"]
    assert executable(node, "it_rewind") == REWIND_FUNCTIONS
    assert rewind_calls_as(node, "it_rewind", FIRST) == []

    again = module(MODULE, args)
    assert not again.failed and not again.changed, again.msg
    assert again["rewind_granted"] == [] and again["queries"] == []
    dry_again = module(MODULE, args, check=True)
    assert not dry_again.changed and dry_again["rewind_granted"] == []
    assert executable(node, "it_rewind") == REWIND_FUNCTIONS


def test_rewind_on_an_existing_role_check_mode_grants_nothing(lab, module, cleanup):
    cleanup.append("it_rewind_late")
    node = lab.primary
    args = {"name": "it_rewind_late", "password": FIRST}
    assert module(MODULE, args).changed
    assert executable(node, "it_rewind_late") == []

    dry = module(MODULE, dict(args, rewind=True), check=True)
    assert not dry.failed and dry.changed, dry.msg
    assert sorted(dry["rewind_granted"]) == sorted(REWIND_FUNCTIONS)
    assert dry["queries"] == grant_queries("it_rewind_late", dry["rewind_granted"])
    assert executable(node, "it_rewind_late") == []

    made = module(MODULE, dict(args, rewind=True))
    assert made.changed and made["rewind_granted"] == dry["rewind_granted"]
    assert made["queries"] == dry["queries"]
    assert executable(node, "it_rewind_late") == REWIND_FUNCTIONS
    assert not module(MODULE, dict(args, rewind=True)).changed


def test_rewind_grants_only_what_is_missing(lab, module, cleanup):
    cleanup.append("it_rewind_part")
    node = lab.primary
    node.sql("CREATE ROLE it_rewind_part LOGIN REPLICATION PASSWORD %s", (FIRST,))
    node.sql("GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean)"
             " TO it_rewind_part")
    made = module(MODULE, {"name": "it_rewind_part", "password": FIRST, "rewind": True})
    assert made.changed, made.msg
    others = [f for f in REWIND_FUNCTIONS if f != "pg_catalog.pg_stat_file(text, boolean)"]
    assert sorted(made["rewind_granted"]) == sorted(others)
    assert executable(node, "it_rewind_part") == REWIND_FUNCTIONS


@pytest.mark.parametrize("rewind", [None, False])
def test_no_rewind_no_grant_on_a_fresh_role(lab, module, cleanup, rewind):
    name = "it_norewind_%s" % str(rewind).lower()
    cleanup.append(name)
    args = {"name": name, "password": FIRST}
    if rewind is not None:
        args["rewind"] = rewind
    made = module(MODULE, args)
    assert made.changed, made.msg
    assert made["rewind_granted"] == [] and made["rewind_revoked"] == []
    assert made["queries"] == [
        "CREATE ROLE \"%s\" WITH LOGIN REPLICATION PASSWORD '********'" % name]
    assert executable(lab.primary, name) == []
    assert rewind_calls_as(lab.primary, name, FIRST) == REWIND_FUNCTIONS
    assert not module(MODULE, args).changed


def test_rewind_false_revokes_unset_leaves_alone(lab, module, cleanup):
    """primary_rewind_source turned off: the grants go; the option left out: they stay."""
    cleanup.append("it_unrewind")
    node = lab.primary
    args = {"name": "it_unrewind", "password": FIRST}
    assert module(MODULE, dict(args, rewind=True)).changed
    assert executable(node, "it_unrewind") == REWIND_FUNCTIONS

    untouched = module(MODULE, args)  # rewind not set
    assert not untouched.failed and not untouched.changed, untouched.msg
    assert untouched["rewind_revoked"] == [] and untouched["queries"] == []
    assert executable(node, "it_unrewind") == REWIND_FUNCTIONS

    dry = module(MODULE, dict(args, rewind=False), check=True)
    assert not dry.failed and dry.changed, dry.msg
    assert sorted(dry["rewind_revoked"]) == sorted(REWIND_FUNCTIONS)
    assert dry["rewind_granted"] == []
    assert dry["queries"] == grant_queries("it_unrewind", dry["rewind_revoked"], "REVOKE")
    assert executable(node, "it_unrewind") == REWIND_FUNCTIONS

    revoked = module(MODULE, dict(args, rewind=False))
    assert not revoked.failed and revoked.changed, revoked.msg
    assert revoked["rewind_revoked"] == dry["rewind_revoked"]
    assert revoked["queries"] == dry["queries"]
    assert executable(node, "it_unrewind") == []
    assert rewind_calls_as(node, "it_unrewind", FIRST) == REWIND_FUNCTIONS
    assert can_log_in(node, "it_unrewind", FIRST, replication=True)  # the role itself stays

    again = module(MODULE, dict(args, rewind=False))
    assert not again.changed and again["rewind_revoked"] == [] and again["queries"] == []


def test_a_grant_through_public_or_membership_is_not_revoked(lab, module, cleanup):
    cleanup.extend(["it_member", "it_rewinders"])
    node = lab.primary
    node.sql("CREATE ROLE it_rewinders NOLOGIN")
    node.sql("GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean)"
             " TO it_rewinders")
    node.sql("CREATE ROLE it_member LOGIN REPLICATION IN ROLE it_rewinders PASSWORD %s",
             (FIRST,))
    result = module(MODULE, {"name": "it_member", "password": FIRST, "rewind": False})
    assert not result.failed and not result.changed, result.msg
    assert result["rewind_revoked"] == []
    assert executable(node, "it_member") == ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]
    # rewind=true counts what the role may execute, however it got it.
    granted = module(MODULE, {"name": "it_member", "password": FIRST, "rewind": True})
    assert granted.changed and "pg_catalog.pg_ls_dir(text, boolean, boolean)" not in (
        granted["rewind_granted"])
    assert len(granted["rewind_granted"]) == 3


def test_a_grant_by_another_grantor_fails_clearly(lab, module, cleanup):
    """A superuser's REVOKE acts as the owner: what another grantor granted survives it."""
    cleanup.extend(["it_foreign", "it_grantor"])
    node = lab.primary
    node.sql("CREATE ROLE it_grantor LOGIN PASSWORD %s", (SECOND,))
    node.sql("GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO it_grantor"
             " WITH GRANT OPTION")
    node.sql("CREATE ROLE it_foreign LOGIN REPLICATION PASSWORD %s", (FIRST,))
    conn = psycopg2.connect(host="127.0.0.1", port=node.port, user="it_grantor",
                            password=SECOND, dbname="postgres")
    conn.autocommit = True
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean)"
                    " TO it_foreign")
    try:
        result = module(MODULE, {"name": "it_foreign", "password": FIRST, "rewind": False})
        assert result.failed, result.msg
        assert result.msg == ("could not revoke EXECUTE from 'it_foreign': pg_catalog."
                              "pg_stat_file(text, boolean) granted by it_grantor; revoke it"
                              " as that grantor")
        assert result["queries"] == grant_queries(
            "it_foreign", ["pg_catalog.pg_stat_file(text, boolean)"], "REVOKE")
        assert executable(node, "it_foreign") == ["pg_catalog.pg_stat_file(text, boolean)"]
    finally:  # DROP OWNED BY does not remove it either; CASCADE takes the grantor's grants
        node.sql("REVOKE EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean)"
                 " FROM it_grantor CASCADE")
    assert executable(node, "it_foreign") == []
    assert not module(MODULE, {"name": "it_foreign", "password": FIRST, "rewind": False}).changed


def test_dropping_a_rewind_role_revokes_its_grants_first(lab, module, cleanup):
    cleanup.append("it_rewind_drop")
    node = lab.primary
    assert module(MODULE, {"name": "it_rewind_drop", "password": FIRST, "rewind": True}).changed
    absent = {"name": "it_rewind_drop", "state": "absent"}
    dry = module(MODULE, absent, check=True)
    assert dry.changed and sorted(dry["rewind_revoked"]) == sorted(REWIND_FUNCTIONS)
    assert dry["queries"] == grant_queries("it_rewind_drop", dry["rewind_revoked"], "REVOKE") + [
        "DROP ROLE \"it_rewind_drop\""]
    assert executable(node, "it_rewind_drop") == REWIND_FUNCTIONS
    dropped = module(MODULE, absent)
    assert not dropped.failed and dropped.changed, dropped.msg
    assert dropped["queries"] == dry["queries"] and dropped["role"] is None
    assert role(node, "it_rewind_drop") is None
