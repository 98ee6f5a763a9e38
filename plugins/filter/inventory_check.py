# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does the inventory's primary match the running cluster? (site.yml's check play)

A table (first matching row wins), unit-tested row by row and rendered into docs/safety.md by
scripts/render_safety_doc.py. After a switchover or a failover the inventory still names the
old primary until the operator edits it; site.yml must then stop before it changes anything,
instead of starting the old primary again beside the new one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: inventory_check
short_description: Check that the inventory's primary is the cluster's running primary
version_added: 0.3.0
description:
  - Takes, per host of the play, what C(server_position) made of its
    pgrepl.streaming.pg_replication_status result, and the name of the host in the group
    C(primary); returns whether site.yml may go on, from the table in C(docs/safety.md).
options:
  _input:
    description:
      - Host name to a dict with C(answered), C(in_recovery), C(timeline), C(position),
        C(system_identifier) and C(error).
    type: dict
    required: true
  primary:
    description: The host of the group C(primary).
    type: str
    required: true
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    verdict: "{{ positions | pgrepl.streaming.inventory_check(primary=groups['primary'][0]) }}"
"""

RETURN = r"""
_value:
  description: C(decision) (C(go) or C(refuse)), C(row), C(found), C(reason), C(running)
    (the hosts that run as a primary of the cluster instead).
  type: dict
"""

from collections import namedtuple  # noqa: E402

Row = namedtuple("Row", "name what test decision reason")


def _primary(ev, ctx):
    return ev.get(ctx["primary"]) or {}


def _timeline(status):
    return int(status.get("timeline") or 0)


def _running(ev, ctx):
    """Other hosts running as a primary that replaced the inventory's one: same system and a
    higher timeline (any, when the inventory's one is in recovery); with the inventory's
    primary silent, any timeline past the first (a package's fresh cluster, unrelated, is
    on timeline 1 and left to the standby role)."""
    mine = _primary(ev, ctx)
    found = []
    for host, status in ev.items():
        if host == ctx["primary"] or not status.get("answered") or status.get("in_recovery"):
            continue
        if mine.get("answered"):
            same = status.get("system_identifier") == mine.get("system_identifier")
            # A standby follows whichever primary runs, whatever the timelines.
            newer = same and (mine.get("in_recovery") or _timeline(status) > _timeline(mine))
        else:
            newer = _timeline(status) > 1
        if newer:
            found.append(host)
    return sorted(found)


ROWS = [
    Row("primary_in_recovery", "the host in the group `primary` runs as a standby (in recovery)",
        lambda ev, ctx: _primary(ev, ctx).get("answered") and _primary(ev, ctx).get("in_recovery"),
        "refuse", "{primary}, the host in the group 'primary', runs as a standby (in recovery, "
                  "timeline {timeline}). {hint}"),
    Row("newer_primary", "another host runs as a primary of the same cluster on a higher "
                         "timeline (a switchover or failover moved the primary)",
        lambda ev, ctx: bool(_running(ev, ctx)),
        "refuse", "{running} runs as the primary of this cluster on timeline {running_timeline}, "
                  "after {primary} (timeline {timeline}, {state}). {hint}"),
    Row("inventory_matches", "the host in `primary` is the primary, or nothing runs yet",
        lambda ev, ctx: True,
        "go", "the inventory matches the running cluster"),
]


def _hint(running, primary, in_recovery):
    if not running:
        return ("Put the host that runs as the primary in the group 'primary', or promote one "
                "with playbooks/promote.yml. Nothing was changed.")
    move = ("A switchover or failover made " + running + " the primary: move " + running
            + " to the group 'primary' and " + primary + " to 'standby' in the inventory")
    if in_recovery:  # already a standby: the inventory edit is all that is left
        return move + ". Nothing was changed."
    return (move + "; to make " + primary + " a standby of " + running + " without a "
            "re-clone, run playbooks/rejoin.yml -e rejoin_host=" + primary
            + ". Nothing was changed.")


def inventory_check(positions, primary):
    ev = positions or {}
    ctx = {"primary": primary}
    running = _running(ev, ctx)
    mine = _primary(ev, ctx)
    fields = {
        "primary": primary, "timeline": mine.get("timeline") or "unknown",
        "state": "in recovery" if mine.get("in_recovery") else (
            "running" if mine.get("answered") else "not answering"),
        "running": ", ".join(running),
        "running_timeline": ", ".join(str(ev[host].get("timeline")) for host in running),
        "hint": _hint(", ".join(running), primary, mine.get("in_recovery")),
    }
    for number, row in enumerate(ROWS, 1):
        if row.test(ev, ctx):
            return {"decision": row.decision, "row": number, "found": row.name,
                    "reason": row.reason.format(**fields), "running": running}
    raise ValueError("no row matched")  # the last row always matches


def render_markdown():
    """The table as Markdown, for docs/safety.md."""
    lines = ["| # | what is found | `found` | decision |", "|---|---|---|---|"]
    for number, row in enumerate(ROWS, 1):
        lines.append("| %d | %s | `%s` | %s |" % (number, row.what, row.name, row.decision))
    return "\n".join(lines) + "\n"


class FilterModule(object):
    def filters(self):
        return {"inventory_check": inventory_check}
