"""Pure logic of pg_replication_user: validation, decisions, statements, results."""

import hashlib

import pytest

from ansible_collections.pgrepl.streaming.plugins.module_utils import scram
from ansible_collections.pgrepl.streaming.plugins.module_utils.connection import (
    connection_argument_spec,
)
from ansible_collections.pgrepl.streaming.plugins.modules import pg_replication_user as mod

PASSWORD = "it-repl-Secret1"
VERIFIER = scram.make_verifier(PASSWORD)


def params(**over):
    p = {k: v.get("default") for k, v in mod.argument_spec().items()}
    p.update(name="replicator", password=PASSWORD)
    p.update(over)
    return p


def row(**over):
    r = {"rolname": "replicator", "rolpassword": VERIFIER, "rolcanlogin": True,
         "rolreplication": True}
    r.update(over)
    return r


def md5_of(password, user):
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


# ------------------------------------------------------------------ argument spec


def test_spec_keeps_the_shared_connection_options():
    assert set(connection_argument_spec()) <= set(mod.argument_spec())


def test_login_is_the_role_attribute_not_an_alias_of_login_user():
    spec = mod.argument_spec()
    assert spec["login"] == {"type": "bool", "default": True}
    assert "login" not in spec["login_user"].get("aliases", [])
    # Every other alias stays; the shared spec itself is not modified.
    assert spec["login_user"]["default"] == "postgres"
    assert "login" in connection_argument_spec()["login_user"]["aliases"]
    aliases = [a for opt in spec.values() for a in opt.get("aliases", [])]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & set(spec)


def test_spec_defaults_and_no_log():
    spec = mod.argument_spec()
    assert spec["password"]["no_log"] is True and "default" not in spec["password"]
    assert spec["state"]["default"] == "present"
    assert spec["replication"]["default"] is True
    assert spec["name"]["required"] is True


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("name", ["replicator", "_", "a", "r2", "x" * 63, "_repl_1"])
def test_valid_names(name):
    assert mod.name_problem(name) is None


@pytest.mark.parametrize("name", ["", None, "Replicator", "2repl", "repl-1", "x" * 64,
                                  "repl\n", "a b", "r\u00e9pl", "x\"; DROP ROLE postgres; --"])
def test_invalid_names_say_what_is_allowed(name):
    problem = mod.name_problem(name)
    assert problem.startswith("invalid role name")
    assert "1 to 63 characters" in problem and "a-z" in problem


@pytest.mark.parametrize("name", ["pg_monitor", "pg_x", "public", "none"])
def test_reserved_names(name):
    assert "PostgreSQL reserves it" in mod.name_problem(name)


def test_option_problem():
    assert mod.option_problem(params()) is None
    assert "invalid role name" in mod.option_problem(params(name="Bad"))
    assert "invalid role name" in mod.option_problem(params(name="Bad", state="absent"))
    assert "must not be empty" in mod.option_problem(params(password=""))
    assert "must not be empty" in mod.option_problem(params(password=None))
    assert "NUL" in mod.option_problem(params(password="a\0b"))
    # absent needs no password
    assert mod.option_problem(params(state="absent", password=None)) is None


def test_option_problem_never_shows_the_password():
    for p in (params(password="a\0secret"), params(name="Bad", password="secret")):
        assert "secret" not in mod.option_problem(p)


def test_session_problem():
    assert mod.session_problem({"user_name": "postgres", "superuser": True}) is None
    problem = mod.session_problem({"user_name": "app", "superuser": False})
    assert "'app' is not a superuser" in problem and "pg_authid" in problem


# ------------------------------------------------------------------ decisions


def test_plan_create():
    assert mod.plan(params(), None) == ("create", ["LOGIN", "REPLICATION", "PASSWORD"])
    assert mod.plan(params(login=False, replication=False), None) == (
        "create", ["NOLOGIN", "NOREPLICATION", "PASSWORD"])


def test_plan_nothing_to_do_whatever_the_salt():
    assert mod.plan(params(), row()) == (None, [])
    other_salt = scram.make_verifier(PASSWORD, salt=b"another salt", iterations=10000)
    assert mod.plan(params(), row(rolpassword=other_salt)) == (None, [])


@pytest.mark.parametrize("stored", [
    None, md5_of(PASSWORD, "replicator"), scram.make_verifier("old password"), "garbage"])
def test_plan_password_differs(stored):
    assert mod.plan(params(), row(rolpassword=stored)) == ("alter", ["PASSWORD"])


def test_plan_attributes_differ():
    assert mod.plan(params(), row(rolcanlogin=False)) == ("alter", ["LOGIN"])
    assert mod.plan(params(), row(rolreplication=False)) == ("alter", ["REPLICATION"])
    assert mod.plan(params(login=False, replication=False), row(rolpassword=None)) == (
        "alter", ["NOLOGIN", "NOREPLICATION", "PASSWORD"])


def test_plan_absent():
    assert mod.plan(params(state="absent", password=None), None) == (None, [])
    assert mod.plan(params(state="absent", password=None), row()) == ("drop", [])
    # absent drops whatever the role looks like
    assert mod.plan(params(state="absent"), row(rolcanlogin=False, rolpassword=None)) == (
        "drop", [])


# ------------------------------------------------------------------ statements


def test_statement_templates():
    assert mod.statement_template("create", ["LOGIN", "REPLICATION", "PASSWORD"]) == \
        "CREATE ROLE {} WITH LOGIN REPLICATION PASSWORD %s"
    assert mod.statement_template("alter", ["NOLOGIN"]) == "ALTER ROLE {} WITH NOLOGIN"
    assert mod.statement_template("alter", ["REPLICATION", "PASSWORD"]) == \
        "ALTER ROLE {} WITH REPLICATION PASSWORD %s"
    assert mod.statement_template("drop", []) == "DROP ROLE {}"


def test_templates_embed_no_value():
    for action, clauses in (mod.plan(params(), None),
                            mod.plan(params(), row(rolpassword=None)),
                            mod.plan(params(state="absent"), row())):
        text = mod.statement_template(action, clauses)
        assert "'" not in text and "replicator" not in text and PASSWORD not in text
        assert text.count("{}") == 1


# ------------------------------------------------------------------ results


def test_password_type():
    assert mod.password_type(None) is None
    assert mod.password_type(VERIFIER) == "scram-sha-256"
    assert mod.password_type(md5_of("x", "y")) == "md5"
    assert mod.password_type("something else") == "unknown"


def test_role_result_never_contains_the_verifier():
    result = mod.role_result(row())
    assert result == {"name": "replicator", "login": True, "replication": True,
                      "password_type": "scram-sha-256"}
    assert VERIFIER not in repr(result)
    assert mod.role_result(None) is None
