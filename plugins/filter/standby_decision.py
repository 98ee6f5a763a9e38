# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The standby decision: what the standby role does with the data dir it finds.

The one place where the collection could lose data, written as two tables (first matching
row wins), unit-tested row by row and rendered into docs/safety.md by
scripts/render_safety_doc.py. The evidence is the result of pgrepl.streaming.pg_cluster_info.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: standby_decision
short_description: Decide what the standby role does with a data directory
version_added: 0.2.0
description:
  - Takes the result of M(pgrepl.streaming.pg_cluster_info) and returns what was found, the
    decision (C(keep), C(clone) or C(refuse)) and the reason, from the table in
    C(docs/safety.md).
  - A C(clone) is then checked against the guards (mount point, free space, tablespaces),
    which refuse even with O(force).
options:
  _input:
    description: The registered result of M(pgrepl.streaming.pg_cluster_info).
    type: dict
    required: true
  version:
    description: The PostgreSQL major version the standby must run.
    type: str
    required: true
  primary_system_identifier:
    description: The primary's system identifier (from C(IDENTIFY_SYSTEM)).
    type: str
    required: true
  force:
    description: C(standby_force_reclone); turns every refusal of the first table into a clone.
    type: bool
    default: false
  primary_bytes:
    description: Size of the primary's databases in bytes (0 when unknown).
    type: int
    default: 0
  tablespaces:
    description: The primary's tablespaces, each with C(name), C(location) and C(target).
    type: list
    elements: dict
    default: []
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    decision: >-
      {{ cluster | pgrepl.streaming.standby_decision(version='15',
         primary_system_identifier='7300000000000000000', force=false) }}
"""

RETURN = r"""
_value:
  description:
    - C(found), C(decision), C(reason), C(row), C(guard), C(forced), C(clone_dir),
      C(clone_in_place).
  type: dict
"""

from collections import namedtuple  # noqa: E402

# Space a clone needs beyond the primary's databases: the WAL streamed while it copies.
CLONE_SPACE_FACTOR = 1.1
CLONE_SPACE_EXTRA = 64 * 1024 * 1024

Row = namedtuple("Row", "found what test action reason")


def _data(ev):
    return ev.get("data_dir") or {}


def _server(ev):
    return ev.get("server") or {}


def _system_id(ev):
    return str((ev.get("control") or {}).get("system_identifier") or "")


# What the data dir holds. The first matching row wins; standby_force_reclone turns every
# action into "clone" (the old data dir is then moved aside, never deleted).
FOUND_ROWS = [
    Row("empty", "no data dir, or an empty one",
        lambda ev, ctx: not _data(ev).get("exists") or _data(ev).get("entries", 0) == 0,
        "clone", "it is empty or absent"),
    Row("not_a_cluster", "entries, but no `PG_VERSION`",
        lambda ev, ctx: not ev.get("pg_version"),
        "refuse",
        "it holds {entries} entries but no PostgreSQL cluster (no PG_VERSION)"),
    Row("other_version", "`PG_VERSION` is not `postgresql_version`",
        lambda ev, ctx: ev.get("pg_version") != ctx["version"],
        "refuse", "it holds a PostgreSQL {pg_version} cluster, not {version}"),
    Row("running_unknown",
        "a server runs on it and does not say whether it is in recovery (waited for while it "
        "starts up)",
        lambda ev, ctx: _server(ev).get("running") and _server(ev).get("in_recovery") is None,
        "refuse",
        "a server runs on it and does not say whether it is in recovery ({server_error})"),
    Row("running_primary", "a server runs on it and `pg_is_in_recovery()` is false: a primary",
        lambda ev, ctx: _server(ev).get("running") and _server(ev).get("in_recovery") is False,
        "refuse", "a primary runs on it (pg_is_in_recovery() is false). If it is a former "
                  "primary of this cluster, playbooks/rejoin.yml makes it a standby with "
                  "pg_rewind, keeping the data dir"),
    Row("other_system", "the control file's system identifier is not the primary's",
        lambda ev, ctx: _system_id(ev) != str(ctx["primary_system_identifier"]),
        "refuse",
        "it holds another database system (system identifier {system_id}, the primary's is "
        "{primary_system_identifier})"),
    Row("not_a_standby",
        "the primary's system without `standby.signal`: a former primary, a promoted standby "
        "or a standalone copy, which may hold writes the primary does not have",
        lambda ev, ctx: not ev.get("standby_signal"),
        "refuse",
        "it holds a copy of the primary's system that is not a standby (no standby.signal: a "
        "former primary, a promoted standby or a standalone copy); playbooks/rejoin.yml makes "
        "it a standby with pg_rewind, keeping the data dir"),
    Row("standby", "the primary's system with `standby.signal`",
        lambda ev, ctx: True,
        "keep", "it is a standby of this primary"),
]


def _needed_bytes(ctx):
    return int(int(ctx.get("primary_bytes") or 0) * CLONE_SPACE_FACTOR) + CLONE_SPACE_EXTRA


def _busy_tablespaces(ev, ctx):
    busy = set(t["path"] for t in ev.get("tablespace_targets") or [] if t.get("in_use"))
    return [t for t in ctx.get("tablespaces") or [] if t.get("target") in busy]


# Checks of a clone that no force overrides: they would fail half-way or lose data.
GUARD_ROWS = [
    Row("mount_point_in_use",
        "the real data dir is a mount point that holds data",
        lambda ev, ctx: _data(ev).get("is_mount") and _data(ev).get("entries", 0) > 0,
        "refuse",
        "{real_path} is a mount point that holds data: a clone beside it would be on another "
        "filesystem, and a mount point cannot be renamed. Save and empty it yourself (an empty "
        "mount point is cloned into directly), or mount the disk one level up and use a "
        "directory inside it as the data dir"),
    Row("no_space", "the clone's filesystem has less free space than the primary's databases "
                    "plus 10% and 64 MiB",
        lambda ev, ctx: "free_bytes" in (ev.get("clone") or {})
        and int(ev["clone"]["free_bytes"]) < _needed_bytes(ctx),
        "refuse",
        "the clone needs about {needed_mib} MiB (the primary's databases plus 10% and 64 MiB "
        "of WAL) and only {free_mib} MiB are free on the filesystem of {space_dir}"),
    Row("tablespace_in_use",
        "a tablespace of the primary would be written to a directory that is not empty here",
        lambda ev, ctx: bool(_busy_tablespaces(ev, ctx)),
        "refuse",
        "the primary's tablespaces {busy} would be written to directories that are not empty "
        "on this host; map each to a new empty directory with standby_tablespace_mapping "
        "(old location: new location, passed to pg_basebackup as -T old=new)"),
]


def _fields(ev, ctx):
    data, clone = _data(ev), ev.get("clone") or {}
    busy = _busy_tablespaces(ev, ctx)
    return {
        "entries": data.get("entries", 0),
        "real_path": data.get("real_path", ""),
        "pg_version": ev.get("pg_version", ""),
        "version": ctx["version"],
        "server_error": _server(ev).get("error") or "no answer",
        "system_id": _system_id(ev) or "unreadable",
        "primary_system_identifier": ctx["primary_system_identifier"] or "unknown",
        "needed_mib": _needed_bytes(ctx) // (1024 * 1024),
        "free_mib": int(clone.get("free_bytes", 0)) // (1024 * 1024),
        "space_dir": clone.get("space_dir", ""),
        "busy": ", ".join("%s (%s -> %s)" % (t.get("name"), t.get("location"), t.get("target"))
                          for t in busy),
    }


def first_match(rows, ev, ctx):
    for number, row in enumerate(rows, 1):
        if row.test(ev, ctx):
            return number, row
    raise ValueError("no row matched")  # the last found row always matches


def decide(evidence, version, primary_system_identifier, force=False, primary_bytes=0,
           tablespaces=None):
    """The decision for one data dir: a dict, always with every key set."""
    ev = evidence or {}
    ctx = {"version": str(version), "primary_system_identifier": str(primary_system_identifier),
           "primary_bytes": primary_bytes, "tablespaces": tablespaces or []}
    number, row = first_match(FOUND_ROWS, ev, ctx)
    fields = _fields(ev, ctx)
    action = "clone" if _bool(force) else row.action
    result = {
        "found": row.found,
        "decision": action,
        "reason": row.reason.format(**fields),
        "row": number,
        "guard": "",
        "forced": action != row.action,
        "clone_dir": (ev.get("clone") or {}).get("clone_dir", ""),
        "clone_in_place": bool((ev.get("clone") or {}).get("clone_in_place")),
    }
    if action == "clone":
        for guard in GUARD_ROWS:
            if guard.test(ev, ctx):
                result.update(decision="refuse", guard=guard.found,
                              reason=guard.reason.format(**fields))
                break
    return result


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y", "t")
    return bool(value)


def render_markdown():
    """Both tables as Markdown, for docs/safety.md."""
    lines = ["| # | what is found | `found` | action | with `standby_force_reclone` |",
             "|---|---|---|---|---|"]
    for number, row in enumerate(FOUND_ROWS, 1):
        forced = "clone (old data dir moved aside)" if row.action != "clone" else "clone"
        cells = (number, row.what, row.found, row.action, forced)
        lines.append("| %d | %s | `%s` | %s | %s |" % cells)
    lines += ["", "A decision to clone is then checked; each of these refuses, forced or not:",
              "", "| guard | refused when | message |", "|---|---|---|"]
    for row in GUARD_ROWS:
        lines.append("| `%s` | %s | %s |" % (row.found, row.what,
                                             row.reason.replace("{", "<").replace("}", ">")))
    return "\n".join(lines) + "\n"


def _mapping_arg(old, new):
    """pg_basebackup's -T option; '=' inside a path is written '\\='."""
    if old == new:
        return ""
    return "--tablespace-mapping=%s=%s" % (old.replace("=", "\\="), new.replace("=", "\\="))


def standby_tablespaces(tablespaces, mapping=None):
    """The primary's tablespaces, each with the directory it goes to on the standby
    (target) and the pg_basebackup option that sends it there (arg, empty when unmapped)."""
    mapping = mapping or {}
    result = []
    for space in tablespaces or []:
        target = mapping.get(space.get("location"), space.get("location"))
        result.append(dict(space, target=target, arg=_mapping_arg(space.get("location"), target)))
    return result


class FilterModule(object):
    def filters(self):
        return {"standby_decision": decide, "standby_tablespaces": standby_tablespaces}
