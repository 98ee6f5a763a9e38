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
        privileges (other than those of O(rewind), which are revoked first) cannot be
        dropped; the module then fails with the server's message naming them.
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
  rewind:
    description:
      - Whether the role may also be the source login of C(pg_rewind), which rejoins a
        former primary as a standby (playbooks/rejoin.yml).
      - V(true) grants C(EXECUTE) on the four functions C(pg_rewind) calls, C(pg_ls_dir)
        (text, boolean, boolean), C(pg_stat_file) (text, boolean), C(pg_read_binary_file)
        (text) and C(pg_read_binary_file) (text, bigint, bigint, boolean), so no superuser
        login over the network is needed. Only the functions the role cannot
        execute yet are granted; a superuser role needs none.
      - V(false) revokes C(EXECUTE) on these functions from the role, where the role holds it
        directly (a grant to C(PUBLIC) or to a role it is a member of is left alone). A
        superuser revokes as the functions' owner, so a grant made by another grantor stays;
        the module then fails, naming that grantor.
      - Not set (the default), the grants are left as they are.
      - Function privileges belong to one database; the grants are made in (and revoked
        from) O(login_db), the database C(pg_rewind) must connect to.
      - With O(state=absent) the role's grants on these functions are revoked before the role
        is dropped, whatever O(rewind) says (they would stop C(DROP ROLE)).
    type: bool
    version_added: 0.3.0
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
    password: "{{ vault_postgresql_replication_password }}"
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
    login_port: 5432
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
rewind_granted:
  description:
    - The functions granted (or, in check mode, to be granted) for O(rewind=true); empty when
      the role already had them, or O(rewind) is not V(true).
  returned: always
  type: list
  elements: str
  sample: ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]
  version_added: 0.3.0
rewind_revoked:
  description:
    - The functions revoked (or, in check mode, to be revoked) for O(rewind=false), or before
      the role is dropped with O(state=absent); empty when the role held none of them directly,
      or O(rewind) is not V(false) with O(state=present).
  returned: always
  type: list
  elements: str
  sample: ["pg_catalog.pg_ls_dir(text, boolean, boolean)"]
  version_added: 0.3.0
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
        # None: leave the grants alone; False revokes them.
        rewind=dict(type="bool"),
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


# What pg_rewind calls on its source server (PostgreSQL docs, pg_rewind, "Notes"); the same
# signatures from 13 to 17. Constants: never built from input.
REWIND_FUNCTIONS = (
    "pg_catalog.pg_ls_dir(text, boolean, boolean)",
    "pg_catalog.pg_stat_file(text, boolean)",
    "pg_catalog.pg_read_binary_file(text)",
    "pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)",
)

MISSING_GRANTS_SQL = (
    "SELECT f AS function FROM unnest(%(functions)s::text[]) AS f"
    " WHERE NOT has_function_privilege(%(name)s, f, 'EXECUTE') ORDER BY 1"
)

# EXECUTE the role holds itself (not through PUBLIC or a membership), with who granted it.
DIRECT_GRANTS_SQL = (
    "SELECT f AS function, a.grantor::regrole::text AS grantor"
    " FROM unnest(%(functions)s::text[]) AS f"
    " JOIN pg_proc AS p ON p.oid = f::regprocedure, aclexplode(p.proacl) AS a"
    " WHERE a.privilege_type = 'EXECUTE'"
    " AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %(name)s) ORDER BY 1, 2"
)


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
        granted = revoked = []
        if action == "drop":
            # What rewind=true granted would stop DROP ROLE ("privileges for function ...").
            revoked = self.revoke_rewind(role_existed=True)
        if action is not None:
            try:
                self.statement(action, clauses)
            except connection.db_errors() as exc:
                self.fail("could not %s role %r: %s"
                          % (action, self.name, connection.server_message(exc)))
        if self.params["state"] == "present" and self.params["rewind"] is True:
            granted = self.grant_rewind(role_existed=row is not None)
        elif self.params["state"] == "present" and self.params["rewind"] is False:
            revoked = self.revoke_rewind(role_existed=row is not None)
        self.module.exit_json(changed=action is not None or bool(granted or revoked),
                              name=self.name, queries=self.queries,
                              role=role_result(self.read_role()),
                              rewind_granted=granted, rewind_revoked=revoked)

    def rewind_rows(self, query):
        try:
            return connection.fetch_all(self.conn, query, {"functions": list(REWIND_FUNCTIONS),
                                                           "name": self.name})
        except connection.db_errors() as exc:
            self.fail("could not read the privileges of %r: %s"
                      % (self.name, connection.server_message(exc)))

    def function_privilege(self, verb, function):
        """GRANT or REVOKE (``verb``) EXECUTE on ``function``; recorded, run unless check mode."""
        from psycopg2 import sql

        to_from = "TO" if verb == "GRANT" else "FROM"
        # ``function`` is one of REWIND_FUNCTIONS, never input; the role name is quoted.
        query = sql.SQL("%s EXECUTE ON FUNCTION %s %s {}" % (verb, function, to_from)).format(
            sql.Identifier(self.name))
        self.queries.append(connection.mogrify(self.conn, query, None))
        if self.module.check_mode:
            return
        try:
            with self.conn.cursor() as cur:
                cur.execute(query)
        except connection.db_errors() as exc:
            self.fail("could not %s EXECUTE on %s %s %r: %s"
                      % (verb.lower(), function, to_from.lower(), self.name,
                         connection.server_message(exc)))

    def grant_rewind(self, role_existed):
        """GRANT EXECUTE on the functions pg_rewind needs that the role lacks; their list."""
        if role_existed:
            missing = [row["function"] for row in self.rewind_rows(MISSING_GRANTS_SQL)]
        else:  # a role created now (or, in check mode, to be created) has none of them
            missing = list(REWIND_FUNCTIONS)
        for function in missing:
            self.function_privilege("GRANT", function)
        return missing

    def revoke_rewind(self, role_existed):
        """REVOKE EXECUTE on the functions pg_rewind needs that the role holds; their list."""
        if not role_existed:  # created now (or, in check mode, to be created): holds none
            return []
        held = sorted({row["function"] for row in self.rewind_rows(DIRECT_GRANTS_SQL)})
        for function in held:
            self.function_privilege("REVOKE", function)
        if held and not self.module.check_mode:
            # A superuser revokes as the functions' owner: a grant by anyone else stays.
            left = self.rewind_rows(DIRECT_GRANTS_SQL)
            if left:
                self.fail("could not revoke EXECUTE from %r: %s; revoke it as that grantor"
                          % (self.name, ", ".join("%s granted by %s"
                                                  % (row["function"], row["grantor"])
                                                  for row in left)))
        return held

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
