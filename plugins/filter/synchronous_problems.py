# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight check of the synchronous replication variables.

The code is in synchronous_standbys.py; this file gives the filter its own documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: synchronous_problems
short_description: Check the synchronous replication variables (preflight)
version_added: 0.4.0
description:
  - Returns one message per problem of C(postgresql_synchronous_standbys),
    C(postgresql_synchronous_method) and C(postgresql_synchronous_count), each naming the
    variable to change; an empty list when they are valid.
  - Refused are a list that is not a list of inventory names (a bare string too); a name
    listed twice; a name outside O(standby_group) (the primary is named as such).
  - Also a listed standby without an application name in O(slot_names), two whose application
    names differ only in case (PostgreSQL compares them case-insensitively), or one named C(*)
    (it matches every standby); a listed standby with a C(standby_upstream) other than the
    primary (PostgreSQL never makes a cascading standby synchronous).
  - Also a method other than C(ANY) or C(FIRST) (any case is accepted, as PostgreSQL does); a
    count that is not a whole number (a string of digits is accepted), or is below 1, or is
    above the number of listed standbys.
  - With an empty list (asynchronous) only the method and the count (a whole number, at least
    1) are checked.
  - C(pgrepl.streaming.synchronous_standby_names) runs the same checks and returns their
    messages in its C(problems).
positional: _input, method, count, slot_names, standby_group, upstreams, primary
options:
  _input:
    description: C(postgresql_synchronous_standbys), inventory names in priority order.
    type: list
    elements: str
    required: true
  method:
    description: C(postgresql_synchronous_method).
    type: str
    default: ANY
  count:
    description: C(postgresql_synchronous_count).
    type: int
    default: 1
  slot_names:
    description:
      - C(postgresql_slot_names), inventory name to application name. Empty means the
        application names are the inventory names (nothing to check).
    type: dict
    default: {}
  standby_group:
    description: The group C(standby) of the inventory; not given means the names are not checked.
    type: list
    elements: str
  upstreams:
    description: Inventory name to C(standby_upstream); not given means no cascading check.
    type: dict
  primary:
    description: The host of the group C(primary).
    type: str
    default: ''
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the synchronous replication variables
  ansible.builtin.assert:
    that: not __sync_problems
    fail_msg: "{{ __sync_problems | join('; ') }}. Nothing was changed."
    quiet: true
  vars:
    __sync_problems: >-
      {{ postgresql_synchronous_standbys | pgrepl.streaming.synchronous_problems(
           method=postgresql_synchronous_method, count=postgresql_synchronous_count,
           slot_names=postgresql_slot_names, standby_group=groups['standby'],
           upstreams=standby_upstreams, primary=groups['primary'][0]) }}
"""

RETURN = r"""
_value:
  description: The messages, each naming the variable to change; empty when the variables are
    valid.
  type: list
  elements: str
"""

from ansible_collections.pgrepl.streaming.plugins.filter.synchronous_standbys import (  # noqa: E402
    synchronous_problems,
)


class FilterModule(object):
    def filters(self):
        return {"synchronous_problems": synchronous_problems}
