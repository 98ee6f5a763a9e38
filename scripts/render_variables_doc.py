"""Render docs/variables.md from the roles' meta/argument_specs.yml and the playbooks' headers.

The argument specs are what Ansible validates before any task runs, so documenting from them
keeps the docs and the checks in step. The variables a playbook reads from -e (or the
inventory) are listed in its header comment, under "# Variables ...:", one per line:
name, default ("required", or "unset" when nothing is passed on without it), meaning,
separated by at least two spaces; a meaning may go on over the next comment lines, indented
deeper than the names. tests/lint/test_docs.py checks
that each playbook lists exactly the variables it reads, with the defaults its code uses,
and fails when the committed page differs from this output; rerun
`python scripts/render_variables_doc.py > docs/variables.md`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
ROLES = ("postgresql", "primary", "standby")

HEADER = """# Role and playbook variables

Generated from `roles/*/meta/argument_specs.yml` and the header comments of `playbooks/*.yml`
by `scripts/render_variables_doc.py`; do not edit by hand. Ansible checks every role variable
below against its type before the role's first task runs, so a wrong type fails before
anything on the host changes. Each role's `defaults/main.yml` repeats the defaults with longer
comments.

Variables are prefixed with the name of the role that owns them. The `postgresql_*` variables
are shared: set them once (for example in `group_vars/all.yml`), every role reads them.
"""


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ").strip()


def default_of(spec: dict) -> str:
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        return "(computed)"
    default = spec["default"]
    if default == "":
        return '`""`'
    return "`%s`" % (yaml.safe_dump(default, default_flow_style=True).strip()
                     .removesuffix("...").strip())


def render_role(role: str) -> list[str]:
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    main = specs["argument_specs"]["main"]
    options = main.get("options", {})
    owned = {k: v for k, v in options.items() if k.startswith(role + "_")}
    shared = sorted(k for k in options if k not in owned)
    lines = ["", "## Role `pgrepl.streaming.%s`" % role, "", cell(main.get("short_description")),
             ""]
    for paragraph in main.get("description", []):
        lines += [cell(paragraph), ""]
    lines += ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, spec in owned.items():
        kind = spec.get("type", "str")
        if spec.get("choices"):
            shown = (str(c) if c != "" else '""' for c in spec["choices"])
            kind += " (one of: %s)" % ", ".join(shown)
        row = (name, kind, default_of(spec), cell(spec.get("description")))
        lines.append("| `%s` | %s | %s | %s |" % row)
    if shared:
        lines += ["", "Also reads: " + ", ".join("`%s`" % s for s in shared) + "."]
    return lines


_ENTRY = re.compile(r"^#   ([a-z_][a-z0-9_]*) {2,}(\S+) {2,}(\S.*)$")
_MORE = re.compile(r"^# {6,}(\S.*)$")


def playbook_variables(path: Path) -> dict:
    """{name: (default, meaning)} from the "# Variables ...:" list of a playbook's header."""
    found: dict = {}
    listing = False
    last = None
    for line in path.read_text().splitlines():
        if not line.startswith("#") and line not in ("---", ""):
            break
        if line.startswith("# Variables"):
            listing = True
            continue
        if not listing:
            continue
        entry, more = _ENTRY.match(line), _MORE.match(line)
        if entry:
            last = entry.group(1)
            found[last] = (entry.group(2), entry.group(3))
        elif more and last:
            found[last] = (found[last][0], found[last][1] + " " + more.group(1))
        else:
            break
    return found


def playbooks() -> list[Path]:
    return sorted((REPO / "playbooks").glob("*.yml"))


def render_playbooks() -> list[str]:
    lines = ["", "## Playbook variables", "",
             "What each playbook reads besides the role variables: pass them with `-e` (or set "
             "them in the inventory). `required` - the playbook refuses to run without it; "
             "(not set) - without it the option is left out."]
    for path in playbooks():
        listed = playbook_variables(path)
        if not listed:
            continue
        lines += ["", "### `playbooks/%s`" % path.name, "",
                  "| variable | default | meaning |", "|---|---|---|"]
        for name, (default, meaning) in listed.items():
            special = {"required": "**required**", "unset": "(not set)"}
            shown = special.get(default, "`%s`" % default)
            lines.append("| `%s` | %s | %s |" % (name, shown, cell(meaning)))
    return lines


def render() -> str:
    lines = HEADER.rstrip("\n").split("\n")
    for role in ROLES:
        lines += render_role(role)
    lines += render_playbooks()
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
