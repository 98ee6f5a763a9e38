# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order in which cascading standbys can be cloned.

The code is in cascade_graph.py; this file gives the filter its own documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: cascade_order
short_description: The standbys in levels, each after the standby it streams from
version_added: 0.4.0
description:
  - Takes, per standby, its C(standby_upstream) and returns the standbys in levels. The first
    level streams from the primary, the second from standbys of the first, and so on. A
    cascading standby is cloned from its upstream (C(pg_basebackup) works from a standby), so
    each level can be cloned once the levels before it stream.
  - Within a level the standbys keep the order of O(standbys). C(| flatten) gives one clone
    order.
  - Fails with the messages of C(pgrepl.streaming.cascade_problems) (without O(standbys) the
    hosts of the map are the standbys) when the map has a problem.
positional: _input, primary, standbys
options:
  _input:
    description:
      - Inventory name to its C(standby_upstream); empty, null or the primary means the
        primary. A standby missing from it streams from the primary.
    type: dict
    required: true
  primary:
    description: The host of the group C(primary).
    type: str
    required: true
  standbys:
    description: The group C(standby), in inventory order; not given means the hosts of the map.
    type: list
    elements: str
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Clone order
  ansible.builtin.debug:
    msg: "{{ {'db2': '', 'db3': 'db2', 'db4': 'db3', 'db5': ''}
             | pgrepl.streaming.cascade_order('db1') }}"
  # -> [['db2', 'db5'], ['db3'], ['db4']]
"""

RETURN = r"""
_value:
  description: The levels, each a list of inventory names; empty without standbys.
  type: list
  elements: list
"""

from ansible_collections.pgrepl.streaming.plugins.filter.cascade_graph import (  # noqa: E402
    cascade_order,
)


class FilterModule(object):
    def filters(self):
        return {"cascade_order": cascade_order}
