# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pg_hba.conf lines the primary role moves aside when it takes over a cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: hba_shadowing
short_description: pg_hba.conf replication lines that must be moved aside
version_added: 0.2.0
description:
  - Takes the rows of C(pg_hba_file_rules), the text of C(pg_hba.conf) and the standbys'
    addresses, and returns the lines outside the collection's managed block that would
    weaken or shadow it (first match wins in pg_hba.conf).
  - A C(host), C(hostssl) or C(hostnossl) line for the C(replication) database is moved aside
    when its method is C(trust) (no password at all), or when it matches a standby's address
    and comes before the managed block (it, not the managed SCRAM line, would decide).
  - Lines for loopback addresses that are not C(trust), C(local) lines and lines for other
    databases are kept.
options:
  _input:
    description:
      - Rows of C(pg_hba_file_rules) (C(line_number), C(type), C(database), C(address),
        C(netmask), C(auth_method)).
    type: list
    elements: dict
    required: true
  content:
    description: The text of C(pg_hba.conf).
    type: str
    required: true
  addresses:
    description: The standbys' addresses.
    type: list
    elements: str
    required: true
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Lines to move aside
  ansible.builtin.set_fact:
    shadowing: "{{ rules | pgrepl.streaming.hba_shadowing(hba_text, ['10.0.0.2']) }}"
"""

RETURN = r"""
_value:
  description: One entry per line to move aside, with C(line), C(text) and C(why).
  type: list
  elements: dict
"""

import ipaddress  # noqa: E402

BLOCK_BEGIN = "BEGIN pgrepl.streaming"
BLOCK_END = "END pgrepl.streaming"
HOST_TYPES = ("host", "hostssl", "hostnossl")


def managed_range(content):
    """First and last line numbers of the managed block, or (0, 0)."""
    first = last = 0
    for number, text in enumerate(content.splitlines(), 1):
        if BLOCK_BEGIN in text and not first:
            first = number
        elif BLOCK_END in text and first:
            last = number
    return first, last


def _network(rule):
    """The rule's address as a network (pg_hba_file_rules gives address and netmask)."""
    try:
        prefix = bin(int(ipaddress.ip_address(rule["netmask"]))).count("1")
        return ipaddress.ip_network("%s/%d" % (rule["address"], prefix), strict=False)
    except (ValueError, KeyError, TypeError):
        return None  # 'all', 'samehost', 'samenet' or a host name


def covers(rule, address):
    """Whether a rule's address matches a standby's address."""
    if rule.get("address") in ("all", "samenet"):
        return True
    network = _network(rule)
    try:
        target = ipaddress.ip_address(address)
    except ValueError:
        return False
    return network is not None and target.version == network.version and target in network


def is_loopback(rule):
    network = _network(rule)
    return network is not None and network.is_loopback


def why_shadowing(rule, first_managed, addresses):
    if rule.get("type") not in HOST_TYPES or "replication" not in (rule.get("database") or []):
        return ""
    if rule.get("auth_method") == "trust":
        return "trust lets anyone who reaches this address replicate the whole database"
    if is_loopback(rule):
        return ""
    before = not first_managed or int(rule["line_number"]) < first_managed
    hits = [a for a in addresses if covers(rule, a)]
    if before and hits:
        return "it decides for %s before the managed scram-sha-256 line" % ", ".join(hits)
    return ""


def hba_shadowing(rules, content, addresses):
    first, last = managed_range(content)
    lines = content.splitlines()
    found = []
    for rule in rules or []:
        number = int(rule.get("line_number") or 0)
        if not number or (first and first <= number <= last) or number > len(lines):
            continue
        why = why_shadowing(rule, first, addresses or [])
        if why:
            found.append({"line": number, "text": lines[number - 1].strip(), "why": why})
    return found


class FilterModule(object):
    def filters(self):
        return {"hba_shadowing": hba_shadowing}
