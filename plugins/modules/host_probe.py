#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
---
module: host_probe
short_description: Read, in one call, the host state the roles of pgrepl.streaming compare
version_added: 0.4.0
description:
  - Reads files and directories (type, mode, owner, group, SHA-1 of the content), installed
    Debian packages, accounts and systemd units, and returns them as one result. It never
    changes anything.
  - The roles run it once per play and skip the tasks whose result is already in place
    (compared on the controller with the filter C(pgrepl.streaming.file_matches)), so that
    a run that changes nothing makes few remote calls. A task whose state differs, or that
    the probe cannot judge (a symbolic link, a file over 4 MiB), runs as before.
options:
  paths:
    description: Paths to describe. A symbolic link is described as a link, not followed.
    type: list
    elements: path
    default: []
  packages:
    description: Debian package names; the result lists the installed ones with their version.
    type: list
    elements: str
    default: []
  users:
    description: Account names to look up.
    type: list
    elements: str
    default: []
  units:
    description: systemd unit names whose load, active and enablement states are read.
    type: list
    elements: str
    default: []
  lines:
    description:
      - Text files to search, each with a Python regular expression; the result lists, in
        the same order, the lines each expression finds (as
        C(ansible.builtin.lineinfile) matches lines).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      regexp:
        description: The regular expression.
        type: str
        required: true
attributes:
  check_mode:
    support: full
    description: It only reads, so check mode reads the same.
  diff_mode:
    support: none
    description: It changes nothing, so there is no diff.
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read what the next tasks compare
  pgrepl.streaming.host_probe:
    paths: [/etc/postgresql-common/createcluster.d]
    packages: [postgresql-17]
    users: [postgres]
    units: [postgresql@17-main.service]
  register: probe
"""

RETURN = r"""
files:
  description: Per path, C(exists), and when it exists C(type) (file, directory, link,
    other), C(mode) (4 octal digits), C(owner), C(group), and C(sha1) for a regular file.
  returned: always
  type: dict
packages:
  description: The installed packages among O(packages), with their version.
  returned: always
  type: dict
users:
  description: Per account, C(uid), C(gid) and C(home), or null when there is none.
  returned: always
  type: dict
units:
  description: Per unit, C(loaded), C(active) and C(enabled) as systemd reports them.
  returned: always
  type: dict
lines:
  description: Per entry of O(lines), the matching lines (empty when the file is missing).
  returned: always
  type: list
  elements: list
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.pgrepl.streaming.plugins.module_utils.host_state import (  # noqa: E402
    describe_path, matching_lines, parse_dpkg, parse_units, user_entry)


def read_packages(module, names):
    if not names:
        return {}
    dpkg = module.get_bin_path("dpkg-query")
    if not dpkg:
        return {}
    # rc 1 only means that some name is unknown to dpkg: the known ones are still printed.
    _rc, out, _err = module.run_command(
        [dpkg, "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Version}\n"] + names,
        environ_update={"LC_ALL": "C"})
    return parse_dpkg(out)


def read_units(module, names):
    if not names:
        return {}
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return {}
    rc, out, _err = module.run_command(
        [systemctl, "show", "-p", "Id,LoadState,ActiveState,UnitFileState", "--"] + names,
        environ_update={"LC_ALL": "C"})
    return parse_units(out) if rc == 0 else {}


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "default": []},
            "packages": {"type": "list", "elements": "str", "default": []},
            "users": {"type": "list", "elements": "str", "default": []},
            "units": {"type": "list", "elements": "str", "default": []},
            "lines": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "regexp": {"type": "str", "required": True}}},
        },
        supports_check_mode=True,
    )
    params = module.params
    module.exit_json(
        changed=False,
        files={path: describe_path(path) for path in params["paths"]},
        packages=read_packages(module, params["packages"]),
        users={name: user_entry(name) for name in params["users"]},
        units=read_units(module, params["units"]),
        lines=[matching_lines(entry["path"], entry["regexp"]) for entry in params["lines"]],
    )


if __name__ == "__main__":
    main()
