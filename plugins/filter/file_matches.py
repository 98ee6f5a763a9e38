# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a path described by host_probe is already in the state a task would leave."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: file_matches
short_description: Whether a path read by host_probe already is what a task would make
version_added: 0.4.0
description:
  - Takes the result of C(pgrepl.streaming.host_probe) (or its C(files)) and a path, and
    returns true when the path is there with the given type and each given attribute, so
    the task that would make it can be skipped. A symbolic link, a path the probe did not
    read and a file without a checksum never match.
positional: _input, path
options:
  _input:
    description: The registered result of C(pgrepl.streaming.host_probe), or its C(files).
    type: dict
    required: true
  path:
    description: The path, as given to the probe.
    type: str
    required: true
  state:
    description: V(file), V(directory) or V(absent).
    type: str
    default: file
  content:
    description: The content a file must have (compared by SHA-1).
    type: str
  mode:
    description: The mode, as an octal string such as C(0640).
    type: raw
  owner:
    description: The owner's name.
    type: str
  group:
    description: The group's name.
    type: str
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Write the drop-in unless it is already there as wanted
  ansible.builtin.copy:
    dest: /etc/example.conf
    content: "{{ wanted }}"
    mode: "0644"
  when: not (probe | pgrepl.streaming.file_matches('/etc/example.conf', content=wanted))
"""

RETURN = r"""
_value:
  description: True when the task would change nothing.
  type: bool
"""

import hashlib  # noqa: E402

from ansible_collections.pgrepl.streaming.plugins.module_utils.host_state import matches  # noqa: E402


def file_matches(probe, path, state="file", content=None, mode=None, owner=None, group=None):
    files = probe.get("files", probe) if isinstance(probe, dict) else {}
    if path not in files:
        return False
    sha1 = None
    if content is not None and state == "file":
        sha1 = hashlib.sha1(str(content).encode("utf-8")).hexdigest()
        if "sha1" not in (files[path] or {}):
            return False
    return matches(files[path], state=state, sha1=sha1, mode=mode, owner=owner, group=group)


class FilterModule(object):
    def filters(self):
        return {"file_matches": file_matches}
