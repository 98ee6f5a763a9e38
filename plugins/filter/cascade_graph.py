# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cascading standbys: who streams from whom (standby_upstream), checked and ordered.

Each standby has one upstream: the primary (standby_upstream empty, null or the primary's
inventory name) or another standby. Each standby has at most one upstream, so a chain either
reaches the primary or runs into a loop; a loop is never reachable from the primary.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: cascade_problems
short_description: Check standby_upstream of every standby (preflight)
version_added: 0.4.0
description:
  - Takes, per standby, its C(standby_upstream) and returns one message per problem, each
    naming C(standby_upstream) and the hosts; an empty list when every standby reaches the
    primary.
  - An empty or null C(standby_upstream), or the primary's inventory name, means the standby
    streams from the primary.
  - Refused are an upstream that is not an inventory name (not a string); an upstream that is
    not a host of the inventory (with O(hosts)); an upstream that is in the inventory but not in
    the group C(standby) (without O(hosts), every name that is neither the primary nor a
    standby); a standby that is its own upstream; and loops, each named in order (C(db3 -> db4
    -> db3) means db3 streams from db4, which streams from db3) with the standbys that hang
    below it.
  - Entries for hosts outside O(standbys) are ignored, the primary's own too (a promoted
    standby may keep its old C(standby_upstream)).
  - C(pgrepl.streaming.cascade_order), C(pgrepl.streaming.upstream_of) and
    C(pgrepl.streaming.downstreams_of) use the same map.
positional: _input, primary, standbys, hosts
options:
  _input:
    description:
      - Inventory name to its C(standby_upstream). A standby missing from it streams from the
        primary.
    type: dict
    required: true
  primary:
    description: The host of the group C(primary).
    type: str
    required: true
  standbys:
    description: The group C(standby), in inventory order.
    type: list
    elements: str
    required: true
  hosts:
    description:
      - Every host of the inventory (C(groups['all'])); when given, an upstream unknown to the
        inventory is told apart from a host that is not a standby.
    type: list
    elements: str
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check standby_upstream
  ansible.builtin.assert:
    that: not __cascade_problems
    fail_msg: "{{ __cascade_problems | join('; ') }}. Nothing was changed."
    quiet: true
  vars:
    __cascade_problems: >-
      {{ dict(groups['standby'] | zip(groups['standby'] | map('extract', hostvars)
              | map(attribute='standby_upstream', default=''))) | pgrepl.streaming.cascade_problems(
           groups['primary'][0], groups['standby'], hosts=groups['all']) }}
"""

RETURN = r"""
_value:
  description: The messages; empty when every standby reaches the primary.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError  # noqa: E402

VAR = "standby_upstream"


def _clean(value):
    """The upstream as written, stripped; '' for empty or null; the value itself if not text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return value


def _map(upstreams):
    if upstreams is None:
        return {}
    if not isinstance(upstreams, dict):
        raise AnsibleFilterError("the map of %s must be a dict (inventory name -> upstream), "
                                 "got %r" % (VAR, upstreams))
    return upstreams


def _once(standbys):
    """The standbys as a list (a generator from Jinja's map() is read once); None stays."""
    return None if standbys is None else list(standbys)


def _members(upstreams, primary, standbys):
    if standbys is None:
        return [host for host in upstreams if host != primary]
    return [host for host in standbys if host != primary]


def upstream_of(host, upstreams, primary):
    """The inventory name host streams from: its standby_upstream, else the primary; '' for the
    primary itself. Not checked: run cascade_problems first."""
    if host == primary:
        return ""
    upstream = _clean(_map(upstreams).get(host))
    return upstream if upstream else primary


def _edges(upstreams, primary, members):
    """standby -> the standby it streams from, for the valid cascading entries only."""
    edges = {}
    for host in members:
        upstream = _clean(upstreams.get(host))
        valid = isinstance(upstream, str) and upstream in members
        if valid and upstream != host:
            edges[host] = upstream
    return edges


def _loops(edges, members):
    """Each loop once, in the order of the chain, starting at its first host in members."""
    done, loops = set(), []
    for start in members:
        path, seen, host = [], {}, start
        while host in edges and host not in done and host not in seen:
            seen[host] = len(path)
            path.append(host)
            host = edges[host]
        if host in seen:
            cycle = path[seen[host]:]
            first = min(cycle, key=members.index)
            at = cycle.index(first)
            loops.append(cycle[at:] + cycle[:at])
        done.update(path)
    return loops


def _below(loop, edges, members):
    """The standbys outside loop whose chain runs into it."""
    inside, hanging = set(loop), []
    for host in members:
        if host in inside:
            continue
        seen, step = {host}, edges.get(host)
        while step is not None and step not in inside and step not in seen:
            seen.add(step)
            step = edges.get(step)
        if step in inside:
            hanging.append(host)
    return hanging


def _entry_problems(upstreams, primary, members, hosts):
    problems = []
    choices = "the primary %s or a standby (%s)" % (primary, ", ".join(members) or "none")
    for host in members:
        upstream = _clean(upstreams.get(host))
        if not isinstance(upstream, str):
            problems.append("%s: %s must be the inventory name of %s, got %r"
                            % (host, VAR, choices, upstream))
        elif upstream == host:
            problems.append("%s: %s is %s itself; a standby cannot stream from itself: unset "
                            "it (the primary) or name another standby" % (host, VAR, host))
        elif upstream in ("", primary) or upstream in members:
            continue
        elif hosts is not None and upstream not in hosts:
            problems.append("%s: %s is %s, which is not a host of the inventory; name %s"
                            % (host, VAR, upstream, choices))
        elif hosts is not None:
            problems.append("%s: %s is %s, which is in the inventory but not in the group "
                            "'standby'; name %s" % (host, VAR, upstream, choices))
        else:
            problems.append("%s: %s is %s, which is neither the primary nor a standby of the "
                            "inventory; name %s" % (host, VAR, upstream, choices))
    return problems


def cascade_problems(upstreams, primary, standbys, hosts=None):
    upstreams = _map(upstreams)
    members = _members(upstreams, primary, standbys)
    problems = _entry_problems(upstreams, primary, members, None if hosts is None else list(hosts))
    edges = _edges(upstreams, primary, members)
    for loop in _loops(edges, members):
        ring = " -> ".join(loop + [loop[0]])
        steps = ", ".join("%s from %s" % (host, edges[host]) for host in loop[1:])
        message = ("%s makes a loop: %s (%s streams from %s%s); none of them reaches the "
                   "primary %s. Set %s of one of them to the primary or to a standby outside "
                   "the loop" % (VAR, ring, loop[0], edges[loop[0]],
                                 ", " + steps if steps else "", primary, VAR))
        hanging = _below(loop, edges, members)
        if hanging:
            message += "; cut off below it as well: " + ", ".join(hanging)
        problems.append(message)
    return problems


def cascade_levels(upstreams, primary, standbys=None):
    """Inventory name -> level (1 streams from the primary, 2 from a level 1 standby, ...)."""
    upstreams, standbys = _map(upstreams), _once(standbys)
    problems = cascade_problems(upstreams, primary, standbys)
    if problems:
        raise AnsibleFilterError("no cascade order: " + "; ".join(problems))
    members = _members(upstreams, primary, standbys)
    edges = _edges(upstreams, primary, members)
    levels = {}
    for host in members:
        chain = [host]
        while chain[-1] in edges and chain[-1] not in levels:
            chain.append(edges[chain[-1]])
        level = levels.get(chain[-1], 1)
        if chain[-1] not in levels:
            levels[chain[-1]] = level
        for distance, step in enumerate(reversed(chain[:-1]), 1):
            levels[step] = level + distance
    return levels


def cascade_order(upstreams, primary, standbys=None):
    """The standbys in levels: each standby after the one it streams from."""
    standbys = _once(standbys)
    levels = cascade_levels(upstreams, primary, standbys)
    members = _members(_map(upstreams), primary, standbys)
    depth = max(levels.values(), default=0)
    return [[host for host in members if levels[host] == level] for level in range(1, depth + 1)]


def downstreams_of(host, upstreams, primary, standbys=None):
    """The standbys that stream from host (its slots and pg_hba lines), in order."""
    upstreams = _map(upstreams)
    return [member for member in _members(upstreams, primary, standbys)
            if member != host and upstream_of(member, upstreams, primary) == host]


class FilterModule(object):
    def filters(self):
        # cascade_order, upstream_of and downstreams_of are exported by their own files, for
        # their own documentation.
        return {"cascade_problems": cascade_problems}
