# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The primary's synchronous_standby_names, built from role variables and what streams now.

Grammar (PostgreSQL 10+, syncrep_gram.y): ``[FIRST] num_sync ( standby_name [, ...] )`` or
``ANY num_sync ( standby_name [, ...] )``; ANY and FIRST are matched in any case; a name in
double quotes is taken as written, a double quote inside it doubled; the server compares a
name with the standby's application_name case-insensitively, and a name ``*`` (quoted or
not) matches every standby. Only standbys in state ``streaming`` that stream from the primary
itself are candidates (a cascading WAL sender always has priority 0).

What the value is, is a table (first matching row wins), unit-tested row by row: a standby is
named only once it streams, and num_sync never exceeds the standbys named, so that adding a
standby, or one not streaming yet, never blocks commits.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: synchronous_standby_names
short_description: Build the primary's synchronous_standby_names
version_added: 0.4.0
description:
  - Takes C(postgresql_synchronous_standbys) (inventory names, in priority order),
    C(postgresql_synchronous_method), C(postgresql_synchronous_count), the application name of
    each standby (C(postgresql_slot_names)) and the standbys that stream from the primary now,
    and returns the value of C(synchronous_standby_names) with what it was made of.
  - The value is the method, num_sync and the application names in parentheses, separated by
    commas (see the sample of RV(_value.value)). The method is always written out, C(FIRST)
    too (never the bare num_sync form); every name is double-quoted, a double quote inside a
    name doubled.
  - Only the listed standbys that stream now are named, in the order of the list (the priority
    for C(FIRST)); the others are in RV(_value.waiting) and are added by a later run once they
    stream. When fewer stream than O(count), num_sync is lowered to the number that stream
    (RV(_value.effective_count)) and RV(_value.warning) says so. When none of them streams yet
    the value is empty (asynchronous) with a warning. So a standby that is new, or not streaming
    yet, never blocks commits. A standby that stops streaming after the run stays named and
    counts for num_sync until the next run, as PostgreSQL's own rules have it.
  - An empty list gives the empty string (asynchronous) without a warning.
  - With RV(_value.problems) (the messages of C(synchronous_problems)) the value is empty and
    RV(_value.found) is C(refused); a play must fail on them (in preflight) before it uses the
    value.
positional: _input, method, count, slot_names, streaming
options:
  _input:
    description:
      - C(postgresql_synchronous_standbys), the inventory names of the synchronous standbys in
        priority order. Empty or null means asynchronous replication.
    type: list
    elements: str
    required: true
  method:
    description:
      - C(postgresql_synchronous_method), C(ANY) (quorum) or C(FIRST) (priority). Accepted in any
        case, as PostgreSQL does; written upper-case.
    type: str
    default: ANY
  count:
    description:
      - C(postgresql_synchronous_count), num_sync, from 1 to the number of listed standbys. A
        string of digits (an extra var) is accepted.
    type: int
    default: 1
  slot_names:
    description:
      - C(postgresql_slot_names), inventory name to application name (the slot name is the
        standby's C(application_name)).
      - Empty means the application names are the inventory names. When not empty, every
        listed standby needs an entry.
    type: dict
    default: {}
  streaming:
    description:
      - The standbys that stream from the primary now.
      - Either inventory names, or the RV(pgrepl.streaming.pg_replication_status#module:standbys)
        rows of the primary (dicts matched by C(application_name), case-insensitively like
        PostgreSQL; a row counts unless its C(state) is present and is not C(streaming)).
    type: list
    elements: raw
    default: []
  standby_group:
    description:
      - The group C(standby) of the inventory. When given, a listed name outside it is a
        problem.
    type: list
    elements: str
  upstreams:
    description:
      - Inventory name to C(standby_upstream). When given, a listed standby that streams from
        another standby is a problem (PostgreSQL never makes a cascading standby synchronous).
    type: dict
  primary:
    description: The host of the group C(primary), for the messages and O(upstreams).
    type: str
    default: ''
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Build synchronous_standby_names from the standbys that stream now
  ansible.builtin.set_fact:
    __primary_sync: >-
      {{ postgresql_synchronous_standbys | pgrepl.streaming.synchronous_standby_names(
           method=postgresql_synchronous_method, count=postgresql_synchronous_count,
           slot_names=postgresql_slot_names, streaming=primary_status.standbys) }}

# ['db2', 'db3'], ANY 1, both streaming  -> value: ANY 1 ("db2", "db3")
# ['db2', 'db3'], FIRST 2, only db2      -> value: FIRST 1 ("db2"), warning set
# ['db2', 'db3'], ANY 1, none streaming  -> value: '' (asynchronous), warning set
"""

RETURN = r"""
_value:
  description: What the value is and why.
  type: dict
  contains:
    value:
      description: The value of C(synchronous_standby_names); empty means asynchronous.
      type: str
      sample: ANY 1 ("db2", "db3")
    method:
      description: The method, upper-case (empty when O(method) is not valid).
      type: str
    count:
      description: O(count) as a number (0 when it is not valid).
      type: int
    effective_count:
      description: The num_sync written in RV(_value.value) (0 when asynchronous).
      type: int
    listed:
      description: The listed inventory names, in order, each once.
      type: list
      elements: str
    synchronous:
      description: The inventory names named in RV(_value.value), in order.
      type: list
      elements: str
    waiting:
      description: The listed inventory names that do not stream yet, in order.
      type: list
      elements: str
    problems:
      description: The messages of C(synchronous_problems); empty when the variables are valid.
      type: list
      elements: str
    warning:
      description: Why fewer standbys are named, or num_sync is lower, than asked; empty when not.
      type: str
    found:
      description: The row of the table that matched (C(refused), C(none_listed),
        C(none_streaming), C(fewer_than_count), C(some_waiting), C(all_streaming)).
      type: str
    row:
      description: Its number.
      type: int
    reason:
      description: What was decided, in words.
      type: str
"""

import re  # noqa: E402
from collections import namedtuple  # noqa: E402
from collections.abc import Iterable, Iterator  # noqa: E402

METHODS = ("ANY", "FIRST")
STANDBYS_VAR = "postgresql_synchronous_standbys"
METHOD_VAR = "postgresql_synchronous_method"
COUNT_VAR = "postgresql_synchronous_count"
DIGITS = re.compile(r"^\s*[0-9]+\s*$")

Row = namedtuple("Row", "name what test decision reason")


def quote_name(name):
    """A standby name as a double-quoted identifier of synchronous_standby_names."""
    return '"' + str(name).replace('"', '""') + '"'


def _method(method):
    """ANY or FIRST, whatever the case; '' when not one of them."""
    if isinstance(method, str) and method.strip().upper() in METHODS:
        return method.strip().upper()
    return ""


def _count(count):
    """The count as an int; None when it is not a whole number."""
    if isinstance(count, bool):
        return None
    if isinstance(count, int):
        return count
    if isinstance(count, str) and DIGITS.match(count):
        return int(count)
    return None


def _is_direct(upstream, primary):
    return upstream is None or (isinstance(upstream, str)
                                and upstream.strip() in ("", primary))


def _once(value):
    """A generator (Jinja's map() without list) as a list, to be read more than once."""
    if isinstance(value, Iterator):
        return list(value)
    return value


def _listed(standbys):
    """(the names in order, each once; problems about the list itself)."""
    if standbys is None or standbys == "":
        return [], []
    if isinstance(standbys, str):
        return [], ["%s must be a list of inventory names, got the string %r; write it as a "
                    "list: [%s]" % (STANDBYS_VAR, standbys, standbys)]
    if isinstance(standbys, (dict, bytes, set, frozenset)) or not isinstance(standbys, Iterable):
        return [], ["%s must be a list of inventory names, got %r" % (STANDBYS_VAR, standbys)]
    names, problems, twice = [], [], []
    for number, name in enumerate(standbys, 1):
        if not isinstance(name, str) or not name.strip():
            problems.append("%s: entry %d is not an inventory name (got %r)"
                            % (STANDBYS_VAR, number, name))
        elif name in names:
            if name not in twice:
                twice.append(name)
        else:
            names.append(name)
    problems.extend("%s lists %s more than once; list each standby once, in priority order"
                    % (STANDBYS_VAR, name) for name in twice)
    return names, problems


def application_names(listed, slot_names):
    """Inventory name -> application name of each listed standby that has one."""
    if not slot_names:
        return {name: name for name in listed}
    return {name: slot_names[name] for name in listed if name in slot_names}


def _name_problems(listed, standby_group, primary):
    if standby_group is None:
        return []
    group = list(standby_group)
    problems = []
    for name in listed:
        if name in group:
            continue
        if primary and name == primary:
            problems.append("%s names %s, the primary; list standbys only (the group 'standby': "
                            "%s)" % (STANDBYS_VAR, name, ", ".join(group) or "empty"))
        else:
            problems.append("%s names %s, which is not in the group 'standby' (%s)"
                            % (STANDBYS_VAR, name, ", ".join(group) or "empty"))
    return problems


def _application_problems(listed, slot_names):
    if not slot_names:
        return []
    apps = application_names(listed, slot_names)
    problems = ["%s names %s, which has no application name (no entry in "
                "postgresql_slot_names)" % (STANDBYS_VAR, name)
                for name in listed if name not in apps]
    seen = {}
    for name in listed:
        app = apps.get(name)
        if app is None:
            continue
        if not isinstance(app, str) or app.strip() in ("", "*"):
            problems.append("%s: the application name of %s is %r, which PostgreSQL cannot "
                            "match with one standby; set standby_slot_name on it"
                            % (STANDBYS_VAR, name, app))
            continue
        key = app.lower()
        if key in seen:
            problems.append("%s names %s and %s, whose application names (%s, %s) PostgreSQL "
                            "takes for the same standby (it ignores case); set "
                            "standby_slot_name on one of them"
                            % (STANDBYS_VAR, seen[key][0], name, seen[key][1], app))
        else:
            seen[key] = (name, app)
    return problems


def _cascade_problems(listed, upstreams, primary):
    if not upstreams:
        return []
    return ["%s names %s, whose standby_upstream is %s: PostgreSQL never makes a cascading "
            "standby synchronous (only standbys that stream from the primary); leave %s out "
            "of %s or unset its standby_upstream"
            % (STANDBYS_VAR, name, upstreams[name], name, STANDBYS_VAR)
            for name in listed
            if name in upstreams and not _is_direct(upstreams[name], primary)]


def _method_problems(method):
    if _method(method):
        return []
    return ["%s must be ANY or FIRST (any case), got %r" % (METHOD_VAR, method)]


def _count_problems(count, listed):
    number = _count(count)
    if number is None:
        return ["%s must be a whole number from 1 to the number of %s, got %r"
                % (COUNT_VAR, STANDBYS_VAR, count)]
    if number < 1:
        return ["%s must be at least 1, got %d (an empty %s is how to make replication "
                "asynchronous)" % (COUNT_VAR, number, STANDBYS_VAR)]
    if listed and number > len(listed):
        return ["%s is %d, but %s lists only %d (%s): lower the count or list more standbys"
                % (COUNT_VAR, number, STANDBYS_VAR, len(listed), ", ".join(listed))]
    return []


def synchronous_problems(standbys, method="ANY", count=1, slot_names=None, standby_group=None,
                         upstreams=None, primary=""):
    """Messages, each naming the variable to change; empty when the variables are valid.

    With an empty list (asynchronous) only the method and the count (a whole number, at least
    1) are checked.
    """
    standby_group = _once(standby_group)
    listed, problems = _listed(standbys)
    problems += _name_problems(listed, standby_group, primary or "")
    # A name outside the group has no slot either: say it once.
    known = [name for name in listed if standby_group is None or name in standby_group]
    problems += _application_problems(known, slot_names or {})
    problems += _cascade_problems(listed, upstreams or {}, primary or "")
    problems += _method_problems(method)
    problems += _count_problems(count, listed)
    return problems


def _streams(entry):
    """The application name of a pg_stat_replication row that streams; None otherwise."""
    state = entry.get("state")
    if state is not None and state != "streaming":
        return None
    name = entry.get("application_name")
    return name if isinstance(name, str) else None


def streaming_hosts(listed, apps, streaming):
    """The listed inventory names that stream, in the order of the list."""
    hosts, rows = set(), set()
    for entry in streaming or []:
        if isinstance(entry, dict):
            app = _streams(entry)
            if app is not None:
                rows.add(app.lower())
        elif isinstance(entry, str):
            hosts.add(entry)
    return [name for name in listed
            if name in hosts or (isinstance(apps.get(name), str) and apps[name].lower() in rows)]


ROWS = [
    Row("refused", "a variable is not valid (`synchronous_problems` says which)",
        lambda ev: bool(ev["problems"]),
        "refuse", "synchronous replication is not configured: {problems}"),
    Row("none_listed", "`postgresql_synchronous_standbys` is empty",
        lambda ev: not ev["listed"],
        "asynchronous", "postgresql_synchronous_standbys is empty: replication is asynchronous"),
    Row("none_streaming", "none of the listed standbys streams from the primary yet",
        lambda ev: not ev["synchronous"],
        "asynchronous", "none of postgresql_synchronous_standbys ({waiting}) streams from the "
                        "primary yet: synchronous_standby_names stays '' (asynchronous) so that "
                        "commits do not wait for a standby that is not there; a run after they "
                        "stream makes replication synchronous"),
    Row("fewer_than_count", "fewer listed standbys stream than `postgresql_synchronous_count`",
        lambda ev: len(ev["synchronous"]) < ev["count"],
        "synchronous", "only {streaming} of the {count} standbys postgresql_synchronous_count "
                       "asks for stream ({synchronous}; not yet: {waiting}): num_sync is "
                       "{effective_count} until they do, so that commits do not wait for a "
                       "standby that is not there; a run after they stream raises it"),
    Row("some_waiting", "enough listed standbys stream; others do not yet",
        lambda ev: bool(ev["waiting"]),
        "synchronous", "not streaming yet, left out until a run after they stream: "
                       "{waiting}; {method} {effective_count} of {synchronous}"),
    Row("all_streaming", "every listed standby streams",
        lambda ev: True,
        "synchronous", "{method} {effective_count} of {synchronous}"),
]


def _match(ev):
    for number, row in enumerate(ROWS, 1):
        if row.test(ev):
            return number, row
    raise ValueError("no row matched")  # the last row always matches


def synchronous_standby_names(standbys, method="ANY", count=1, slot_names=None, streaming=None,
                              standby_group=None, upstreams=None, primary=""):
    standbys, standby_group = _once(standbys), _once(standby_group)
    problems = synchronous_problems(standbys, method, count, slot_names, standby_group,
                                    upstreams, primary)
    listed = _listed(standbys)[0]
    apps = application_names(listed, slot_names or {})
    number = _count(count)
    ev = {"problems": problems, "listed": listed, "count": number or 0,
          "synchronous": [], "waiting": list(listed)}
    if not problems:
        ev["synchronous"] = streaming_hosts(listed, apps, streaming)
        ev["waiting"] = [name for name in listed if name not in ev["synchronous"]]
    effective = min(ev["count"], len(ev["synchronous"]))
    number, row = _match(ev)
    value = ""
    if row.decision == "synchronous":
        value = "%s %d (%s)" % (_method(method), effective,
                                ", ".join(quote_name(apps[name]) for name in ev["synchronous"]))
    else:
        effective = 0
    fields = {"problems": "; ".join(problems), "waiting": ", ".join(ev["waiting"]),
              "synchronous": ", ".join(ev["synchronous"]), "count": ev["count"],
              "streaming": len(ev["synchronous"]), "effective_count": effective,
              "method": _method(method)}
    reason = row.reason.format(**fields)
    return {"value": value, "method": _method(method), "count": ev["count"],
            "effective_count": effective, "listed": listed,
            "synchronous": ev["synchronous"] if row.decision == "synchronous" else [],
            "waiting": ev["waiting"], "problems": problems,
            "warning": reason if ev["waiting"] and not problems else "",
            "found": row.name, "row": number, "reason": reason}


def render_markdown():
    """The table as Markdown, for the docs."""
    lines = ["| # | what is found | `found` | replication |", "|---|---|---|---|"]
    for number, row in enumerate(ROWS, 1):
        lines.append("| %d | %s | `%s` | %s |" % (number, row.what, row.name, row.decision))
    return "\n".join(lines) + "\n"


class FilterModule(object):
    def filters(self):
        # synchronous_problems is exported by synchronous_problems.py, for its own documentation.
        return {"synchronous_standby_names": synchronous_standby_names}
