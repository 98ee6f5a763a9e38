# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The standbys that stream from a host (whose slots and pg_hba lines it holds).

The code is in cascade_graph.py; this file gives the filter its own documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: downstreams_of
short_description: The standbys that stream from a host
version_added: 0.4.0
description:
  - Returns the standbys whose upstream (see C(pgrepl.streaming.upstream_of)) is the host; for
    the primary the standbys that stream from it directly, for a standby the ones that cascade
    from it. The slot and the pg_hba line of a standby are made on its upstream.
  - Does not check the map; run C(pgrepl.streaming.cascade_problems) in preflight first.
positional: _input, upstreams, primary, standbys
options:
  _input:
    description: The inventory name of the primary or of a standby.
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
  standbys:
    description:
      - The group C(standby), in inventory order; not given means the hosts of the map (a
        standby missing from the map then counts as absent, not as direct).
    type: list
    elements: str
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The standbys whose slots this host holds
  ansible.builtin.set_fact:
    __pgrepl_downstreams: >-
      {{ inventory_hostname | pgrepl.streaming.downstreams_of(standby_upstreams,
           groups['primary'][0], groups['standby']) }}
"""

RETURN = r"""
_value:
  description: Inventory names, in the order of O(standbys).
  type: list
  elements: str
"""

from ansible_collections.pgrepl.streaming.plugins.filter.cascade_graph import (  # noqa: E402
    downstreams_of,
)


class FilterModule(object):
    def filters(self):
        return {"downstreams_of": downstreams_of}
