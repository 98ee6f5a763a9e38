# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host a standby streams from.

The code is in cascade_graph.py; this file gives the filter its own documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: upstream_of
short_description: The inventory name of the host a standby streams from
version_added: 0.4.0
description:
  - Returns the C(standby_upstream) of the host, stripped, or the primary when it is empty,
    null or missing; the empty string for the primary itself.
  - Does not check the map; run C(pgrepl.streaming.cascade_problems) in preflight first.
positional: _input, upstreams, primary
options:
  _input:
    description: The inventory name of the standby.
    type: str
    required: true
  upstreams:
    description: Inventory name to its C(standby_upstream).
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
- name: Where this standby streams from (and is cloned from)
  ansible.builtin.set_fact:
    __standby_upstream_host: >-
      {{ inventory_hostname | pgrepl.streaming.upstream_of(standby_upstreams,
                                                            groups['primary'][0]) }}
"""

RETURN = r"""
_value:
  description: The upstream's inventory name; empty for the primary itself.
  type: str
"""

from ansible_collections.pgrepl.streaming.plugins.filter.cascade_graph import (  # noqa: E402
    upstream_of,
)


class FilterModule(object):
    def filters(self):
        return {"upstream_of": upstream_of}
