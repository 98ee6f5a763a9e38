# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many WAL senders and slots a primary needs for its standbys (one rule, one place)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: replication_capacity
short_description: The max_wal_senders and max_replication_slots a primary needs
version_added: 0.2.0
description:
  - Each streaming standby holds one WAL sender. Each clone in progress
    (C(pg_basebackup -X stream)) holds two (the copy and its WAL stream), and a forced re-clone
    of a running standby also a temporary slot. The standby role clones at most
    C(standby_clone_batch) standbys at once.
  - C(max_wal_senders) >= 2 x standbys cloning at once + standbys + 2 spare (a DBA's own
    C(pg_basebackup), a reconnect racing the old sender's exit).
  - C(max_replication_slots) >= standbys + standbys cloning at once.
options:
  _input:
    description: Number of standbys.
    type: int
    required: true
  batch:
    description: C(standby_clone_batch); 0 means every standby at once.
    type: int
    default: 0
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Needed sizes
  ansible.builtin.debug:
    msg: "{{ groups['standby'] | length | pgrepl.streaming.replication_capacity(batch=2) }}"
"""

RETURN = r"""
_value:
  description: C(cloning) (at once), C(wal_senders) and C(slots), the minimum values.
  type: dict
"""

SPARE_SENDERS = 2
SENDERS_PER_CLONE = 2


def replication_capacity(standbys, batch=0):
    standbys, batch = int(standbys), int(batch)
    cloning = standbys if batch <= 0 else min(standbys, batch)
    return {
        "cloning": cloning,
        "wal_senders": SENDERS_PER_CLONE * cloning + standbys + SPARE_SENDERS,
        "slots": standbys + cloning,
    }


class FilterModule(object):
    def filters(self):
        return {"replication_capacity": replication_capacity}
