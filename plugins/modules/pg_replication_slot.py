#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
---
module: pg_replication_slot
short_description: Create or drop PostgreSQL physical and logical replication slots
version_added: 0.1.0
description:
  - Makes sure a physical or logical replication slot exists, or does not exist, on a
    PostgreSQL 13 or later server (a primary, or a standby for cascading replication).
  - Accepts every option of M(community.postgresql.postgresql_slot) under the same names and
    aliases, so a playbook written for it runs unchanged, with stricter checks.
  - The slot name is validated before any connection is made; all values reach the server
    as query parameters, never pasted into SQL.
  - An existing slot that differs from the request (other type; for a logical slot another
    output plugin, database, two_phase or failover setting) is an error, never silently
    accepted; a slot cannot be altered, only dropped and recreated, which loses its
    position.
  - Dropping a slot that a consumer is using fails and names that consumer, unless
    O(terminate_active=true).
  - Check mode connects and reads the server, then reports exactly what a real run would
    do, including the statements it would run and the failures it would meet.
options:
  name:
    description:
      - Name of the replication slot.
      - 1 to 63 characters, each a lowercase letter, a digit or C(_) (what PostgreSQL
        accepts; longer names are refused rather than truncated).
    type: str
    required: true
    aliases: [slot_name]
  slot_type:
    description:
      - Type of the slot. C(physical) slots feed standbys and C(pg_receivewal);
        C(logical) slots feed logical decoding (subscriptions, CDC tools).
    type: str
    default: physical
    choices: [logical, physical]
  state:
    description:
      - V(present) creates the slot when it is missing; V(absent) drops it when it exists.
    type: str
    default: present
    choices: [absent, present]
  immediately_reserve:
    description:
      - For a new physical slot, reserve WAL from now on instead of from the first
        connection of its consumer, so that RV(slot.restart_lsn) is set at once.
      - Physical slots only; a logical slot always reserves WAL when it is created.
      - Has no effect on a slot that already exists.
    type: bool
    default: false
  output_plugin:
    description:
      - Output plugin of a logical slot, for example C(pgoutput) (logical replication,
        built in), C(test_decoding) or C(wal2json).
      - 1 to 63 letters, digits or C(_).
      - Ignored for physical slots.
      - Unlike M(community.postgresql.postgresql_slot), whose default is C(test_decoding),
        the default is C(pgoutput), the plugin of PostgreSQL's own logical replication.
    type: str
    default: pgoutput
  two_phase:
    description:
      - Create the logical slot with decoding of prepared transactions (PostgreSQL 14 or
        later; asking for it on PostgreSQL 13 fails with a clear message).
      - When set, an existing logical slot must have the same setting; when unset, it is
        not compared and a new slot is created without it.
      - Logical slots only.
    type: bool
  failover:
    description:
      - Create the logical slot as a failover slot, one that standbys can keep a
        synchronised copy of, so that its consumer can continue on a standby after that
        standby is promoted (PostgreSQL 17 or later; asking for it on an older server fails
        with a clear message).
      - Create it on the primary; PostgreSQL does not enable failover for a slot created
        on a standby.
      - The slot only reaches a standby that is set up for it (this module does not do
        that). The standby needs C(sync_replication_slots = on),
        C(hot_standby_feedback = on), a physical slot in C(primary_slot_name) and a
        C(dbname) in C(primary_conninfo); the primary needs that physical slot listed in
        C(synchronized_standby_slots), so that the logical consumer never gets ahead of
        the standby.
      - When set, an existing logical slot must have the same setting; when unset, it is
        not compared and a new slot is created without it.
      - Logical slots only.
    type: bool
    version_added: 0.4.0
  terminate_active:
    description:
      - With O(state=absent), end the connection that is using the slot
        (C(pg_terminate_backend)) and then drop the slot.
      - A consumer that reconnects at once (a standby's walreceiver does) is terminated
        again, a bounded number of times; the module fails if it keeps coming back.
      - When V(false), dropping an active slot fails with a message naming the consumer
        (pid, application_name, client address).
    type: bool
    default: false
  trust_input:
    description:
      - Accepted for compatibility with M(community.postgresql.postgresql_slot).
      - Has no effect; every input is always validated, and values are passed to the server
        as query parameters.
    type: bool
    default: true
notes:
  - For a logical slot, the database the module connects to (O(login_db)) is the database
    of the slot.
  - Creating or dropping a slot needs the C(REPLICATION) attribute or superuser;
    terminating a consumer needs superuser or membership in C(pg_signal_backend).
seealso:
  - module: pgrepl.streaming.pg_replication_status
  - name: pg_replication_slots view
    description: The columns behind RV(slot).
    link: https://www.postgresql.org/docs/current/view-pg-replication-slots.html
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Predicts the change, the statements in RV(queries) and the failures.
  diff_mode:
    support: none
    description: Slots have no text form to compare.
extends_documentation_fragment:
  - pgrepl.streaming.connection
"""

EXAMPLES = r"""
- name: Slot for standby pg2, reserving WAL before pg_basebackup runs
  pgrepl.streaming.pg_replication_slot:
    name: pg2
    immediately_reserve: true
    login_unix_socket: /var/run/postgresql

# A logical slot needs wal_level = logical on the server, which the collection sets with
# primary_wal_level: logical; with the default (replica) the module fails and says so.
- name: Logical slot for a CDC tool in database shop
  pgrepl.streaming.pg_replication_slot:
    name: shop_cdc
    slot_type: logical
    output_plugin: wal2json
    login_db: shop
    login_host: db1.example.org
    login_port: 5432
    login_user: replicator
    login_password: "{{ vault_postgresql_replication_password }}"

# PostgreSQL 17 or later, wal_level = logical. The copy on a standby is only kept when that
# standby has sync_replication_slots = on and hot_standby_feedback = on, and its physical
# slot is listed in the primary's synchronized_standby_slots.
- name: Logical slot that a promoted standby takes over
  pgrepl.streaming.pg_replication_slot:
    name: shop_subscription
    slot_type: logical
    failover: true
    login_db: shop
    login_unix_socket: /var/run/postgresql

- name: Drop the slot of a decommissioned standby, even if it is still connected
  pgrepl.streaming.pg_replication_slot:
    name: old_standby
    state: absent
    terminate_active: true
"""

RETURN = r"""
name:
  description: Name of the slot.
  returned: always
  type: str
  sample: pg2
queries:
  description:
    - Statements that changed something (create, terminate, drop), as sent to the server.
    - In check mode, the statements a real run would send.
  returned: always
  type: list
  elements: str
  sample: ["SELECT pg_create_physical_replication_slot('pg2', true)"]
slot:
  description:
    - The slot after the change, from C(pg_replication_slots); null when there is none.
    - In check mode, the slot as it is now (nothing was changed).
  returned: success
  type: dict
  contains:
    name:
      description: Slot name.
      type: str
      sample: pg2
    type:
      description: C(physical) or C(logical).
      type: str
      sample: physical
    plugin:
      description: Output plugin of a logical slot; null for a physical slot.
      type: str
      sample: pgoutput
    database:
      description: Database of a logical slot; null for a physical slot.
      type: str
      sample: shop
    active:
      description: Whether a consumer is using the slot now.
      type: bool
      sample: true
    active_pid:
      description: Process id of the session using the slot; null when inactive.
      type: int
      sample: 4242
    restart_lsn:
      description: Oldest WAL location the slot retains; null until WAL is reserved.
      type: str
      sample: 0/3000148
    confirmed_flush_lsn:
      description: Location up to which a logical consumer confirmed receipt; null for
        physical slots.
      type: str
      sample: 0/3000180
    wal_status:
      description: C(reserved), C(extended), C(unreserved) or C(lost); null until WAL is
        reserved.
      type: str
      sample: reserved
    safe_wal_size:
      description: Bytes of WAL that can still be written before the slot is in danger of
        losing WAL (needs C(max_slot_wal_keep_size)); null otherwise.
      type: int
      sample: 1073741824
    two_phase:
      description: Whether a logical slot decodes prepared transactions; null before
        PostgreSQL 14.
      type: bool
      sample: false
    failover:
      description:
        - Whether a logical slot is a failover slot, kept on standbys that have
          C(sync_replication_slots = on) (and C(hot_standby_feedback = on), their physical
          slot in the primary's C(synchronized_standby_slots)); null before PostgreSQL 17.
      type: bool
      sample: false
      version_added: 0.4.0
    retained_bytes:
      description:
        - WAL the slot keeps, in bytes, from RV(slot.restart_lsn) to the current WAL
          location (C(pg_current_wal_lsn()); on a standby, the last received location).
        - Null when no WAL is reserved.
      type: int
      sample: 16777216
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils import connection  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils import slot_sql  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils.slot_sql import SlotError  # noqa: E402

# SQLSTATEs of pg_drop_replication_slot that are part of the normal flow.
OBJECT_IN_USE = "55006"
UNDEFINED_OBJECT = "42704"


def argument_spec():
    spec = connection.connection_argument_spec()
    spec.update(
        name=dict(type="str", required=True, aliases=["slot_name"]),
        slot_type=dict(type="str", default="physical", choices=["logical", "physical"]),
        state=dict(type="str", default="present", choices=["absent", "present"]),
        immediately_reserve=dict(type="bool", default=False),
        output_plugin=dict(type="str", default="pgoutput"),
        two_phase=dict(type="bool"),
        failover=dict(type="bool"),
        terminate_active=dict(type="bool", default=False),
        trust_input=dict(type="bool", default=True),
    )
    return spec


class SlotRun(object):
    """One run of the module against an open connection."""

    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.params = module.params
        self.name = module.params["name"]
        self.major = connection.server_major(conn.server_version)
        self.facts = connection.fetch_one(conn, slot_sql.SERVER_FACTS_SQL)
        self.queries = []

    def read_slot(self):
        return connection.fetch_one(self.conn, slot_sql.slot_query(self.major),
                                    {"name": self.name})

    def slot_now(self):
        slot = self.read_slot()
        if slot is None:
            return None
        current = connection.fetch_one(
            self.conn, slot_sql.current_lsn_query(self.facts["in_recovery"]))["lsn"]
        return slot_sql.slot_result(slot, current)

    def statement(self, query, args):
        """Record the statement as sent; run it unless in check mode."""
        self.queries.append(connection.mogrify(self.conn, query, args))
        if not self.module.check_mode:
            with self.conn.cursor() as cur:
                cur.execute(query, args)

    def decide(self, slot):
        action = slot_sql.plan(self.params, slot, self.facts["database"])
        if action == "create":
            problem = slot_sql.server_problem(self.params, self.major, self.facts)
            if problem:
                raise SlotError(problem)
        return action

    def apply(self, action, slot):
        if action == "create":
            self.statement(*slot_sql.create_statement(self.params))
        elif action == "drop":
            self.drop_inactive()
        elif action == "terminate_and_drop":
            self.terminate_and_drop(slot)

    def drop_once(self):
        """Drop the slot; SlotInUse when a consumer holds it."""
        try:
            self.statement(slot_sql.DROP_SQL, {"name": self.name})
        except connection.db_errors() as exc:
            if exc.pgcode == UNDEFINED_OBJECT:
                return  # dropped by someone else meanwhile: the goal is reached
            if exc.pgcode == OBJECT_IN_USE:
                raise slot_sql.SlotInUse(connection.server_message(exc)) from exc
            raise

    def drop_inactive(self):
        try:
            self.drop_once()
        except slot_sql.SlotInUse:
            # A consumer attached between our read and the drop: same rules as if it had
            # been there from the start.
            slot = self.read_slot()
            if self.params["terminate_active"]:
                self.terminate_and_drop(slot)
            elif slot is not None and slot["active"]:
                raise SlotError(slot_sql.active_slot_message(self.name, slot)) from None
            else:
                raise

    def terminate_and_drop(self, slot):
        if self.module.check_mode:
            self.statement(slot_sql.TERMINATE_SQL, {"pid": slot["active_pid"]})
            self.statement(slot_sql.DROP_SQL, {"name": self.name})
            return
        slot_sql.drop_with_termination(
            self.read_slot,
            lambda pid: self.statement(slot_sql.TERMINATE_SQL, {"pid": pid}),
            self.drop_once,
            self.name,
        )

    def run(self):
        slot = self.read_slot()
        try:
            action = self.decide(slot)
            if slot is not None and slot["wal_status"] == "lost" and action == "none":
                self.module.warn("replication slot %r has lost WAL its consumer needs"
                                 " (wal_status = lost)" % self.name)
            self.apply(action, slot)
        except (SlotError, slot_sql.SlotInUse) as exc:
            self.fail(str(exc))
        except connection.db_errors() as exc:
            self.fail("could not %s replication slot %r: %s"
                      % ("create" if self.params["state"] == "present" else "drop",
                         self.name, connection.server_message(exc)))
        self.module.exit_json(changed=action != "none", name=self.name,
                              queries=self.queries, slot=self.slot_now())

    def fail(self, msg):
        self.module.fail_json(msg=msg, name=self.name, queries=self.queries,
                              slot=self.slot_now())


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    # Before connecting: a bad name or plugin never reaches the server.
    problem = slot_sql.option_problem(module.params)
    if problem:
        module.fail_json(msg=problem, name=module.params["name"], queries=[])
    conn = connection.connect(module)
    try:
        SlotRun(module, conn).run()
    finally:
        conn.close()


if __name__ == "__main__":
    main()
