#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
---
module: pg_replication_user
short_description: Manage a PostgreSQL replication role without sending its password
version_added: 0.1.0
description:
  - Makes sure a role with the C(LOGIN) and C(REPLICATION) attributes and a SCRAM-SHA-256
    password exists, or does not exist, on a PostgreSQL 13 or later server.
  - The plain password never reaches the server. The module computes the SCRAM-SHA-256
    verifier itself, as C(psql)'s C(\password) and libpq's C(PQencryptPasswordConn) do, and
    sends only the verifier, as a query parameter. So the password cannot show in the
    server log (C(log_statement)), in C(pg_stat_activity) or in C(pg_stat_statements).
  - The role is changed only when it is missing, when its C(LOGIN) or C(REPLICATION)
    attribute differs, or when its stored password is not a SCRAM-SHA-256 verifier of
    O(password) (an C(md5) hash or no password counts as different). The stored verifier is
    checked with its own salt and iteration count, so a password set by C(psql) or by
    another tool is recognised and left alone.
  - The role name is validated before any connection is made.
  - Check mode connects and reads the server, then reports exactly what a real run would
    do, including the statements it would run.
options:
  name:
    description:
      - Name of the role.
      - 1 to 63 characters; the first a lowercase letter or C(_), the others lowercase
        letters, digits or C(_) (an unquoted PostgreSQL identifier; longer names are
        refused rather than truncated).
      - Names starting with C(pg_), and C(public) and C(none), are reserved by PostgreSQL
        and refused.
    type: str
    required: true
  password:
    description:
      - The password, in plain text. Required with O(state=present). Never logged, never
        sent to the server.
      - Hashed like libpq does it; an ASCII password is hashed as it is, any other is
        prepared with SASLprep (RFC 4013) first, or used as it is when SASLprep refuses it.
      - A value that looks like an C(md5) hash or a SCRAM verifier is not taken as a
        pre-computed hash; it is the password.
      - Must not be empty and must not contain a NUL character.
    type: str
  state:
    description:
      - V(present) creates the role, or brings its password and attributes in line.
      - V(absent) drops the role when it exists. A role that still owns objects or holds
        privileges cannot be dropped; the module then fails with the server's message
        naming them.
    type: str
    default: present
    choices: [absent, present]
  replication:
    description:
      - Whether the role has the C(REPLICATION) attribute (may start streaming replication
        and base backups).
    type: bool
    default: true
  login:
    description:
      - Whether the role has the C(LOGIN) attribute.
    type: bool
    default: true
  login_user:
    description:
      - The role to connect as.
      - Unlike in the other modules of the collection, C(login) is not an alias of this
        option here; it is the role attribute O(login).
    type: str
    default: postgres
    aliases: []
notes:
  - The module reads C(pg_authid), which only a superuser may read, and creating a role
    with C(REPLICATION) needs superuser on PostgreSQL 15 and older; O(login_user) (or
    O(session_role)) must be a superuser, and the module fails with a clear message
    otherwise.
  - New verifiers use 4096 iterations and a random 16-byte salt, PostgreSQL's defaults.
  - The setting C(password_encryption) of the server does not matter; the verifier is
    stored as sent.
seealso:
  - module: pgrepl.streaming.pg_replication_slot
  - name: Password authentication
    description: SCRAM-SHA-256 and md5 passwords in PostgreSQL.
    link: https://www.postgresql.org/docs/current/auth-password.html
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Predicts the change and the statements in RV(queries); runs none of them.
  diff_mode:
    support: none
    description: A password verifier has no meaningful text form to compare.
extends_documentation_fragment:
  - pgrepl.streaming.connection
"""

EXAMPLES = r"""
- name: Replication role for the standbys, over the local socket as postgres
  pgrepl.streaming.pg_replication_user:
    name: replicator
    password: "{{ vault_replication_password }}"
    login_unix_socket: /var/run/postgresql
  become: true
  become_user: postgres
  no_log: true

- name: Take the REPLICATION attribute away, keep the role
  pgrepl.streaming.pg_replication_user:
    name: old_replicator
    password: "{{ vault_old_replication_password }}"
    replication: false
    login: false
    login_host: db1.example.org
    login_password: "{{ vault_postgres_password }}"
  no_log: true

- name: Drop the role
  pgrepl.streaming.pg_replication_user:
    name: old_replicator
    state: absent
"""

RETURN = r"""
name:
  description: Name of the role.
  returned: always
  type: str
  sample: replicator
queries:
  description:
    - Statements that changed something, as sent to the server, except that the password
      verifier is shown as C('********').
    - In check mode, the statements a real run would send.
  returned: always
  type: list
  elements: str
  sample: ["CREATE ROLE \"replicator\" WITH LOGIN REPLICATION PASSWORD '********'"]
role:
  description:
    - The role after the change, from C(pg_authid); null when there is none.
    - In check mode, the role as it is now (nothing was changed).
  returned: success
  type: dict
  contains:
    name:
      description: Role name.
      type: str
      sample: replicator
    login:
      description: Whether the role has the C(LOGIN) attribute.
      type: bool
      sample: true
    replication:
      description: Whether the role has the C(REPLICATION) attribute.
      type: bool
      sample: true
    password_type:
      description:
        - How the password is stored, never the password or its verifier.
        - C(scram-sha-256), C(md5), null when the role has no password, C(unknown) for
          anything else.
      type: str
      sample: scram-sha-256
"""

import re  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils import connection  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils import scram  # noqa: E402

# An unquoted identifier, at most NAMEDATALEN - 1 bytes: longer names would be truncated.
NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
NAME_RULE = ("1 to 63 characters, the first a lowercase letter (a-z) or '_', the others"
             " lowercase letters, digits (0-9) or '_'")
RESERVED_NAMES = ("public", "none")

# Shown in ``queries`` instead of the verifier.
MASK = "********"

SESSION_SQL = (
    "SELECT current_user AS user_name,"
    " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser"
)
ROLE_SQL = (
    "SELECT rolname, rolpassword, rolcanlogin, rolreplication FROM pg_authid"
    " WHERE rolname = %(name)s"
)


def argument_spec():
    spec = connection.connection_argument_spec()
    # ``login`` is the role attribute here, not the alias of login_user it is elsewhere.
    login_user = dict(spec["login_user"])
    login_user.pop("aliases", None)
    spec.update(
        login_user=login_user,
        name=dict(type="str", required=True),
        password=dict(type="str", no_log=True),
        state=dict(type="str", default="present", choices=["absent", "present"]),
        replication=dict(type="bool", default=True),
        login=dict(type="bool", default=True),
    )
    return spec


# ---------------------------------------------------------------- pure decisions


def name_problem(name):
    """Why ``name`` cannot be the role's name, or None."""
    if name is None or not NAME_RE.fullmatch(name):
        return "invalid role name %r: use %s" % (name, NAME_RULE)
    if name.startswith("pg_") or name in RESERVED_NAMES:
        return "invalid role name %r: PostgreSQL reserves it" % (name,)
    return None


def option_problem(params):
    """First problem with the options alone (checked before connecting), or None."""
    problem = name_problem(params["name"])
    if problem or params["state"] == "absent":
        return problem
    password = params.get("password")
    if not password:
        return "password must not be empty with state=present"
    if "\0" in password:
        return "password must not contain a NUL character"
    return None


def session_problem(session):
    """Why this session cannot manage the role (``session`` from SESSION_SQL), or None."""
    if not session["superuser"]:
        return ("role %r is not a superuser: reading password verifiers (pg_authid) and"
                " creating REPLICATION roles needs one; connect as a superuser, for"
                " example login_user=postgres" % (session["user_name"],))
    return None


def password_type(rolpassword):
    """How pg_authid.rolpassword is stored: 'scram-sha-256', 'md5' or None."""
    if rolpassword is None:
        return None
    if scram.parse_verifier(rolpassword) is not None:
        return "scram-sha-256"
    if re.fullmatch(r"md5[0-9a-f]{32}", rolpassword):
        return "md5"
    return "unknown"


def role_result(row):
    """The RV(role) of a pg_authid row (never the verifier); None for no role."""
    if row is None:
        return None
    return {"name": row["rolname"], "login": row["rolcanlogin"],
            "replication": row["rolreplication"],
            "password_type": password_type(row["rolpassword"])}


def _attribute_clause(word, wanted):
    return word if wanted else "NO" + word


def plan(params, row):
    """(action, clauses) for the role as it is (``row`` from ROLE_SQL, None if missing).

    action is 'create', 'alter', 'drop' or None (nothing to do); clauses are the words of
    the WITH list, 'PASSWORD' standing for the new verifier.
    """
    if params["state"] == "absent":
        return ("drop", []) if row is not None else (None, [])
    if row is None:
        return "create", [_attribute_clause("LOGIN", params["login"]),
                          _attribute_clause("REPLICATION", params["replication"]),
                          "PASSWORD"]
    clauses = []
    if row["rolcanlogin"] != params["login"]:
        clauses.append(_attribute_clause("LOGIN", params["login"]))
    if row["rolreplication"] != params["replication"]:
        clauses.append(_attribute_clause("REPLICATION", params["replication"]))
    if not scram.verifier_matches(row["rolpassword"], params["password"]):
        clauses.append("PASSWORD")
    return ("alter", clauses) if clauses else (None, [])


def statement_template(action, clauses):
    """SQL text with ``{}`` for the role name and ``%s`` for the verifier."""
    if action == "drop":
        return "DROP ROLE {}"
    words = ["PASSWORD %s" if clause == "PASSWORD" else clause for clause in clauses]
    return "%s ROLE {} WITH %s" % (action.upper(), " ".join(words))


# ---------------------------------------------------------------- the run


class UserRun(object):
    """One run of the module against an open connection."""

    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.params = module.params
        self.name = module.params["name"]
        self.queries = []

    def read_role(self):
        return connection.fetch_one(self.conn, ROLE_SQL, {"name": self.name})

    def statement(self, action, clauses):
        """Record the statement (verifier masked); run it unless in check mode."""
        from psycopg2 import sql

        query = sql.SQL(statement_template(action, clauses)).format(sql.Identifier(self.name))
        with_password = "PASSWORD" in clauses
        self.queries.append(connection.mogrify(self.conn, query,
                                               (MASK,) if with_password else None))
        if self.module.check_mode:
            return
        # The verifier is the only form of the password that leaves this process.
        args = (scram.make_verifier(self.params["password"]),) if with_password else None
        with self.conn.cursor() as cur:
            cur.execute(query, args)

    def run(self):
        try:
            problem = session_problem(connection.fetch_one(self.conn, SESSION_SQL))
            if problem:
                self.fail(problem, read=False)
            row = self.read_role()
        except connection.db_errors() as exc:
            self.fail("could not read role %r from pg_authid: %s"
                      % (self.name, connection.server_message(exc)), read=False)
        action, clauses = plan(self.params, row)
        if action is not None:
            try:
                self.statement(action, clauses)
            except connection.db_errors() as exc:
                self.fail("could not %s role %r: %s"
                          % (action, self.name, connection.server_message(exc)))
        self.module.exit_json(changed=action is not None, name=self.name,
                              queries=self.queries, role=role_result(self.read_role()))

    def fail(self, msg, read=True):
        extra = {"role": role_result(self.read_role())} if read else {}
        self.module.fail_json(msg=msg, name=self.name, queries=self.queries, **extra)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "present", ["password"])])
    # Before connecting: a bad name or password never reaches the server.
    problem = option_problem(module.params)
    if problem:
        module.fail_json(msg=problem, name=module.params["name"], queries=[])
    conn = connection.connect(module)
    try:
        UserRun(module, conn).run()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
