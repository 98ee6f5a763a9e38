# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WAL positions (LSNs) as numbers, so playbooks can compare them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: lsn_int
short_description: A WAL position (LSN) as a byte number
version_added: 0.3.0
description:
  - Turns an LSN such as C(16/B374D848) into the byte position it stands for, so two
    positions compare with C(<) and subtract to a number of bytes. None stays None.
  - Anything else that is not an LSN (an empty string, C(abc), C(1/2/3), a number) fails the
    task, naming the value.
options:
  _input:
    description: The LSN, as PostgreSQL prints it.
    type: str
    required: true
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Has the standby replayed the old primary's shutdown checkpoint?
  ansible.builtin.assert:
    that: status.replay_lsn | pgrepl.streaming.lsn_int > checkpoint_lsn | pgrepl.streaming.lsn_int
"""

RETURN = r"""
_value:
  description: The byte position.
  type: int
"""

from ansible.errors import AnsibleFilterError  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils.lsn import (  # noqa: E402
    lsn_to_int,
)


def lsn_int(lsn):
    """'16/B374D848' -> byte position; None stays None; anything else not an LSN fails."""
    try:
        return lsn_to_int(lsn)
    except ValueError as exc:
        raise AnsibleFilterError("lsn_int: %s" % (exc,)) from None


class FilterModule(object):
    def filters(self):
        return {"lsn_int": lsn_int}
