#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
module: pg_conf_comment
short_description: Move lines of a PostgreSQL configuration file aside, keeping a backup
version_added: 0.2.0
description:
  - Comments out given lines of a configuration file (C(postgresql.conf), C(pg_hba.conf),
    C(postgresql.auto.conf), C(standby.signal)) with a marker naming the collection, the date
    and the reason, so a DBA sees what was moved aside and why.
  - Each line is named by its number and its expected text (as PostgreSQL reports them in
    C(pg_file_settings) or C(pg_hba_file_rules)); a line whose text differs is refused, so a
    file changed in the meantime is never edited blindly.
  - Before the first change a dated backup is written beside the file
    (C(<file>.pgrepl-<UTC timestamp>), same owner, mode 0600).
  - A C(password=...) value is replaced by C(********) in the commented line and in the
    backup, since the password belongs in C(.pgpass), never in a configuration file.
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
options:
  path:
    description: The file.
    type: path
    required: true
  lines:
    description:
      - Lines to comment out, each with C(line) (1-based number) and optionally C(text), the
        line's expected content without surrounding whitespace, or C(setting), the name of the
        setting the line must assign (checked when given).
      - Lines that are already comments are left alone.
    type: list
    elements: dict
    default: []
  all_lines:
    description: Comment out every line that is not empty or a comment yet (for C(standby.signal)).
    type: bool
    default: false
  reason:
    description: Why the lines are moved aside; written into each marker.
    type: str
    required: true
attributes:
  check_mode:
    description: Reports what would be moved aside and writes nothing.
    support: full
  diff_mode:
    description: Returns the file before and after (passwords redacted).
    support: full
"""

EXAMPLES = r"""
- name: Move aside a setting that overrides the managed drop-in
  pgrepl.streaming.pg_conf_comment:
    path: /etc/postgresql/15/main/postgresql.conf
    lines:
      - {line: 812, text: "max_wal_senders = 10"}
    reason: overrides conf.d/50-pgrepl-replication.conf
"""

RETURN = r"""
moved:
  description: The lines moved aside (C(line), C(text) with any password redacted).
  returned: always
  type: list
  elements: dict
summary:
  description: The lines moved aside in one line of text (C(line 12 'max_wal_senders = 10'; ...)).
  returned: always
  type: str
backup:
  description: Path of the backup, empty when nothing changed.
  returned: always
  type: str
"""

import os  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.pgrepl.streaming.plugins.module_utils.cluster_probe import redact  # noqa: E402

MARKER = "#pgrepl.streaming %s moved aside (%s): %s"


def is_active(text):
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#")


def plan(content, wanted, all_lines):
    """Line numbers to comment out, or raise ValueError naming a line that does not match."""
    lines = content.splitlines()
    if all_lines:
        return [number for number, text in enumerate(lines, 1) if is_active(text)]
    chosen = []
    for item in wanted:
        number = int(item["line"])
        if number < 1 or number > len(lines):
            raise ValueError("line %d is past the end of the file (%d lines)"
                             % (number, len(lines)))
        text = lines[number - 1]
        expected = item.get("text")
        if expected is not None and text.strip() != str(expected).strip():
            raise ValueError("line %d is %r, not %r: the file changed since it was read"
                             % (number, redact(text.strip()), redact(str(expected).strip())))
        setting = item.get("setting")
        if setting and not re.match(r"\s*%s\s*(=|\s)" % re.escape(setting), text):
            raise ValueError("line %d does not set %s: the file changed since it was read"
                             % (number, setting))
        if is_active(text) and number not in chosen:
            chosen.append(number)
    return sorted(chosen)


def rewrite(content, numbers, reason, day):
    lines = content.splitlines(True)
    for number in numbers:
        text = lines[number - 1].rstrip("\r\n")
        ending = lines[number - 1][len(text):] or "\n"
        lines[number - 1] = MARKER % (day, reason, redact(text.strip())) + ending
    return "".join(lines)


def write_like(path, content, stat, mode=None):
    """Write content to path atomically with the owner (and mode) of stat."""
    temp = "%s.pgrepl-tmp" % path
    with open(temp, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chown(temp, stat.st_uid, stat.st_gid)
    os.chmod(temp, mode if mode is not None else stat.st_mode & 0o7777)
    os.rename(temp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            lines=dict(type="list", elements="dict", default=[]),
            all_lines=dict(type="bool", default=False),
            reason=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isfile(path):
        module.fail_json(msg="%s does not exist or is not a file" % path)
    with open(path) as handle:
        content = handle.read()
    try:
        numbers = plan(content, module.params["lines"], module.params["all_lines"])
    except ValueError as exc:
        module.fail_json(msg="%s: %s; nothing was changed" % (path, exc))
    source = content.splitlines()
    moved = [{"line": n, "text": redact(source[n - 1].strip())} for n in numbers]
    summary = "; ".join("line %d '%s'" % (item["line"], item["text"]) for item in moved)
    result = dict(changed=bool(numbers), moved=moved, summary=summary, backup="")
    if not numbers:
        module.exit_json(**result)
    now = time.gmtime()
    after = rewrite(content, numbers, module.params["reason"], time.strftime("%Y-%m-%d", now))
    if module._diff:
        result["diff"] = {"before": redact(content), "after": after,
                          "before_header": path, "after_header": path}
    if not module.check_mode:
        stat = os.stat(path)
        backup = "%s.pgrepl-%s" % (path, time.strftime("%Y%m%dT%H%M%SZ", now))
        write_like(backup, "\n".join(redact(line) for line in source) + "\n", stat, 0o600)
        write_like(path, after, stat)
        result["backup"] = backup
    module.exit_json(**result)


if __name__ == "__main__":
    main()
