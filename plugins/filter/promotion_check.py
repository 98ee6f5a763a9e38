# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover decision: may playbooks/promote.yml promote this standby?

A table (first matching row wins), unit-tested row by row and rendered into docs/safety.md by
scripts/render_safety_doc.py. The evidence is, per inventory host, what
pgrepl.streaming.pg_replication_status said after the old primary was fenced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: promotion_check
short_description: Decide whether a standby may be promoted (failover)
version_added: 0.3.0
description:
  - Takes, per host, the position of every server that answered and returns whether the
    candidate may be promoted, from the table in C(docs/safety.md).
  - A candidate that received less WAL than another standby (on a lower timeline, or at a
    lower position on the same one) is refused, naming the more advanced host; O(force)
    promotes it anyway and reports what the others hold beyond it.
options:
  _input:
    description:
      - Host name to a dict with C(answered) (bool), C(in_recovery) (bool), C(timeline) (int),
        C(position) (the larger of the received and replayed LSN, as text) and C(error).
    type: dict
    required: true
  candidate:
    description: The host to promote.
    type: str
    required: true
  force:
    description: C(promote_force); promote a candidate that is behind another standby.
    type: bool
    default: false
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    verdict: "{{ positions | pgrepl.streaming.promotion_check(candidate='db2') }}"
"""

RETURN = r"""
_value:
  description: C(decision) (C(promote), C(promoted) or C(refuse)), C(row), C(reason), C(ahead)
    (hosts with more WAL), C(behind_bytes) (how much more the most advanced one holds).
  type: dict
"""

from collections import namedtuple  # noqa: E402

from ansible_collections.pgrepl.streaming.plugins.module_utils.lsn import (  # noqa: E402
    lsn_to_int,
)

Row = namedtuple("Row", "name what test decision reason")


def _rank(status):
    """(timeline, byte position) of a server that answered."""
    return int(status.get("timeline") or 0), lsn_to_int(status.get("position") or "0/0")


def _candidate(ev, ctx):
    return ev.get(ctx["candidate"]) or {}


def _others(ev, ctx):
    return {host: status for host, status in ev.items()
            if host != ctx["candidate"] and status.get("answered")}


def _ahead(ev, ctx):
    mine = _rank(_candidate(ev, ctx))
    return sorted(host for host, status in _others(ev, ctx).items()
                  if status.get("in_recovery") and _rank(status) > mine)


def _primaries(ev, ctx):
    return sorted(host for host, status in _others(ev, ctx).items()
                  if status.get("in_recovery") is False)


ROWS = [
    Row("no_answer", "the candidate does not answer",
        lambda ev, ctx: not _candidate(ev, ctx).get("answered"),
        "refuse", "{candidate} does not answer ({error}); it cannot be promoted"),
    Row("other_primary", "another host of the inventory runs as a primary",
        lambda ev, ctx: bool(_primaries(ev, ctx)),
        "refuse", "{primaries} already runs as a primary: promoting {candidate} would make two. "
                  "Stop it first, or, if it is the new primary, move it to the group 'primary' "
                  "in the inventory"),
    Row("already_primary", "the candidate is already a primary (an earlier run promoted it)",
        lambda ev, ctx: _candidate(ev, ctx).get("in_recovery") is False,
        "promoted", "{candidate} is already a primary; only the other standbys are re-pointed"),
    Row("behind", "another standby received more WAL (higher timeline, or further on the same "
                  "one)",
        lambda ev, ctx: bool(_ahead(ev, ctx)) and not ctx["force"],
        "refuse", "{candidate} is behind {ahead} ({behind_bytes} bytes of WAL, timeline "
                  "{timeline}): promoting it would lose what they received. Promote {first} "
                  "instead, or set promote_force=true to accept that loss"),
    Row("behind_forced", "another standby received more WAL, and `promote_force=true`",
        lambda ev, ctx: bool(_ahead(ev, ctx)),
        "promote", "promote_force=true: {candidate} is promoted although {ahead} received "
                   "{behind_bytes} more bytes of WAL; those are lost, and {ahead} must be "
                   "rejoined (rejoin.yml) or re-cloned"),
    Row("most_advanced", "no answering standby received more WAL than the candidate",
        lambda ev, ctx: True,
        "promote", "{candidate} has received the most WAL of the standbys that answered "
                   "(timeline {timeline}, {position})"),
]


def _fields(ev, ctx):
    cand = _candidate(ev, ctx)
    ahead = _ahead(ev, ctx) if cand.get("answered") else []
    top = max((_rank(ev[host]) for host in ahead), default=None)
    behind = 0
    if top is not None:
        mine = _rank(cand)
        behind = top[1] - mine[1] if top[0] == mine[0] else "an unknown number of"
    return {
        "candidate": ctx["candidate"], "error": cand.get("error") or "no answer",
        "primaries": ", ".join(_primaries(ev, ctx)), "ahead": ", ".join(ahead),
        "first": max(ahead, key=lambda host: _rank(ev[host])) if ahead else "",
        "behind_bytes": behind,
        "timeline": cand.get("timeline"), "position": cand.get("position"),
    }


def promotion_check(positions, candidate, force=False):
    ev = positions or {}
    ctx = {"candidate": candidate, "force": bool(force)}
    for number, row in enumerate(ROWS, 1):
        if row.test(ev, ctx):
            fields = _fields(ev, ctx)
            return {"decision": row.decision, "row": number, "found": row.name,
                    "reason": row.reason.format(**fields),
                    "ahead": [h for h in fields["ahead"].split(", ") if h],
                    "behind_bytes": fields["behind_bytes"]}
    raise ValueError("no row matched")  # the last row always matches


def server_position(status):
    """A registered pg_replication_status result -> what the table compares."""
    status = status or {}
    if status.get("skipped"):
        return {"answered": False, "in_recovery": None, "timeline": None, "position": None,
                "error": "no PostgreSQL on it yet", "system_identifier": None}
    if status.get("failed") or status.get("unreachable") or "in_recovery" not in status:
        return {"answered": False, "in_recovery": None, "timeline": None, "position": None,
                "error": status.get("msg") or "no answer", "system_identifier": None}
    if status["in_recovery"]:
        known = [lsn for lsn in (status.get("receive_lsn"), status.get("replay_lsn")) if lsn]
        position = max(known, key=lsn_to_int) if known else None
    else:
        position = status.get("current_lsn")
    return {"answered": True, "in_recovery": status["in_recovery"],
            "timeline": status.get("timeline"), "position": position, "error": "",
            "system_identifier": status.get("system_identifier")}


def render_markdown():
    """The table as Markdown, for docs/safety.md."""
    lines = ["| # | what is found | `found` | decision | message |", "|---|---|---|---|---|"]
    for number, row in enumerate(ROWS, 1):
        reason = row.reason.replace("{", "<").replace("}", ">")
        cells = (number, row.what, row.name, row.decision, reason)
        lines.append("| %d | %s | `%s` | %s | %s |" % cells)
    return "\n".join(lines) + "\n"


class FilterModule(object):
    def filters(self):
        return {"promotion_check": promotion_check, "server_position": server_position}
