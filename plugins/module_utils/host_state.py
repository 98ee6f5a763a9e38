# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only host state for the roles' one probe per play (module host_probe) and the
controller-side comparison (filter file_matches). Pure parsers, unit-tested.
"""

from __future__ import absolute_import, division, print_function

import grp
import hashlib
import os
import pwd
import re
import stat

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

# Files larger than this are described without a checksum: the roles manage small files only.
MAX_HASHED = 4 * 1024 * 1024


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def describe_path(path):
    """What the file module would see at path: its type (the link itself, not followed),
    mode, owner, group and, for a regular file, the SHA-1 of its content."""
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False}
    if stat.S_ISLNK(st.st_mode):
        kind = "link"
    elif stat.S_ISDIR(st.st_mode):
        kind = "directory"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "other"
    found = {"exists": True, "type": kind, "mode": "%04o" % stat.S_IMODE(st.st_mode),
             "owner": _name(pwd.getpwuid, st.st_uid), "group": _name(grp.getgrgid, st.st_gid)}
    if kind == "file" and st.st_size <= MAX_HASHED:
        digest = hashlib.sha1()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
        found["sha1"] = digest.hexdigest()
    return found


def matching_lines(path, regexp):
    """The lines of a text file that re.search(regexp) finds, in order, without their line
    ends, as ansible.builtin.lineinfile matches them; [] when the file is not there."""
    pattern = re.compile(regexp)
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
    except OSError:
        return []
    return [line for line in text.splitlines() if pattern.search(line)]


def parse_dpkg(output):
    """dpkg-query -W -f='${Package}\\t${db:Status-Abbrev}\\t${Version}\\n' -> {package: version}
    for the installed ones ('ii')."""
    installed = {}
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1].strip() == "ii":
            installed[fields[0].split(":", 1)[0]] = fields[2]
    return installed


def parse_units(output):
    """systemctl show -p Id,LoadState,ActiveState,UnitFileState <units> -> {unit: {...}}."""
    units = {}
    for block in output.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if props.get("Id"):
            units[props["Id"]] = {"loaded": props.get("LoadState", ""),
                                  "active": props.get("ActiveState", ""),
                                  "enabled": props.get("UnitFileState", "")}
    return units


def user_entry(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return {"uid": entry.pw_uid, "gid": entry.pw_gid, "home": entry.pw_dir}


def matches(found, state="file", sha1=None, mode=None, owner=None, group=None):
    """Whether a described path is already what a file/copy task would leave: same type (a
    link never matches, the task decides), and each given attribute equal. state=absent:
    nothing there."""
    found = found or {}
    if state == "absent":
        return not found.get("exists", False)
    if found.get("type") != state:
        return False
    if sha1 is not None and found.get("sha1") != sha1:
        return False
    if mode is not None and found.get("mode") != "%04o" % int(str(mode), 8):
        return False
    if owner is not None and found.get("owner") != owner:
        return False
    return group is None or found.get("group") == group
