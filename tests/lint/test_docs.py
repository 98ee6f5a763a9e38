"""Documentation that is generated, or promised by the README, stays in step with the code."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.lint


def test_variables_doc_is_current():
    rendered = subprocess.run([sys.executable, str(REPO / "scripts/render_variables_doc.py")],
                              capture_output=True, text=True, check=True).stdout
    assert (REPO / "docs/variables.md").read_text() == rendered, (
        "docs/variables.md is stale: python scripts/render_variables_doc.py > docs/variables.md")


def test_readme_links_resolve():
    text = (REPO / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" not in target:
            assert (REPO / target).exists(), "README links to missing %s" % target


def test_contract_variables_documented():
    doc = (REPO / "docs/variables.md").read_text()
    for name in ("postgresql_version", "postgresql_port", "postgresql_replication_user",
                 "postgresql_replication_password", "postgresql_archive_dir",
                 "standby_primary_host", "standby_force_reclone"):
        assert "`%s`" % name in doc, name


def test_safety_doc_tables_are_current():
    sys.path.insert(0, str(REPO / "scripts"))
    import render_safety_doc

    page = (REPO / "docs/safety.md").read_text()
    assert render_safety_doc.render(page) == page, (
        "docs/safety.md is stale: python scripts/render_safety_doc.py --write")


# ------------------------------------------------------------------ playbook variables

# Names Ansible (or Jinja) provides: never a playbook variable.
MAGIC = {"groups", "hostvars", "inventory_hostname", "inventory_hostname_short", "group_names",
         "play_hosts", "omit", "item", "lookup", "query", "q", "now", "undef", "playbook_dir",
         "role_path", "true", "false", "none", "True", "False", "None"}
# Keys whose string values are bare Jinja expressions.
CONDITIONS = ("when", "that", "until", "changed_when", "failed_when")


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def strings(node, bare=False):
    """(template, is a bare expression) for every string of a parsed YAML file."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, bare=key in CONDITIONS)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item, bare)
    elif isinstance(node, str):
        yield node, bare


def role_names() -> set:
    """Every variable a role documents, defaults, fixes or sets as a fact."""
    names = set()
    for role in (REPO / "roles").iterdir():
        specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())
        names |= set(specs["argument_specs"]["main"].get("options", {}))
        for part in ("defaults/main.yml", "vars/main.yml"):
            names |= set(yaml.safe_load((role / part).read_text()) or {})
        for tasks in (role / "tasks").glob("*.yml"):
            for node in walk(yaml.safe_load(tasks.read_text())):
                names |= set(node.get("ansible.builtin.set_fact") or {})
    return names


def playbook_files(path: Path) -> list:
    """The playbook and the playbooks/tasks files it includes, recursively."""
    found, todo = [], [path]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.append(current)
        for node in walk(yaml.safe_load(current.read_text())):
            for key in ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks"):
                if isinstance(node.get(key), str):
                    todo.append(current.parent / node[key])
    return found


def variables_read(path: Path):
    """(names the playbook reads that it does not set itself, {name: defaults in the code})."""
    from jinja2 import Environment, meta, nodes

    class Any(dict):
        """Every filter and test name is known: the analysis never runs them."""

        def get(self, name, default=None):
            return super().get(name) or (lambda *args, **kwargs: None)

    env = Environment()
    env.filters, env.tests = Any(env.filters), Any(env.tests)
    read, set_here, defaults = set(), set(), {}
    for part in playbook_files(path):
        data = yaml.safe_load(part.read_text())
        for node in walk(data):
            set_here |= set(node.get("ansible.builtin.set_fact") or {})
            set_here.add(node.get("register"))
            set_here.add((node.get("loop_control") or {}).get("loop_var"))
            if "hosts" in node and "tasks" in node:  # a play: its vars are defaults of -e
                for name, value in (node.get("vars") or {}).items():
                    defaults.setdefault(name, []).append(value)
            else:
                set_here |= set(node.get("vars") or {})
        for text, bare in strings(data):
            if not bare and "{{" not in text and "{%" not in text:
                continue
            with warnings.catch_warnings():  # '\s' in a Jinja string literal (status.yml)
                warnings.simplefilter("ignore", DeprecationWarning)
                tree = env.parse("{{ (%s) }}" % text if bare else text)
            read |= meta.find_undeclared_variables(tree)
            # {% set %} inside {% if %} branches reads as undeclared after them.
            set_here |= {n.name for n in tree.find_all(nodes.Name) if n.ctx == "store"}
            for call in tree.find_all(nodes.Filter):
                if (call.name == "default" and isinstance(call.node, nodes.Name) and call.args
                        and isinstance(call.args[0], (nodes.Const, nodes.List))):
                    defaults.setdefault(call.node.name, []).append(call.args[0].as_const())
    own = read - set_here - set(env.globals) - MAGIC - role_names()
    own = {n for n in own if not n.startswith(("_", "ansible_"))}
    return own, defaults


sys.path.insert(0, str(REPO / "scripts"))
import render_variables_doc  # noqa: E402

PLAYBOOKS = render_variables_doc.playbooks()


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda p: p.name)
def test_playbook_variables_are_documented_with_their_defaults(path):
    read, defaults = variables_read(path)
    listed = render_variables_doc.playbook_variables(path)
    assert sorted(listed) == sorted(read), (
        "%s: the header's '# Variables' list must name exactly the variables it reads"
        " (missing: %s, not read: %s)" % (path.name, sorted(set(read) - set(listed)),
                                          sorted(set(listed) - set(read))))
    for name, (default, _meaning) in listed.items():
        if default == "required":
            continue
        if default == "unset":  # optional, and not passed on when not set (omit)
            assert name not in defaults, "%s: %s has a default in the code" % (path.name, name)
            continue
        documented = yaml.safe_load(default)
        for value in defaults.get(name, []):
            assert value == documented, "%s: %s defaults to %r in the code, %r in the header" % (
                path.name, name, value, documented)
        assert name in defaults, "%s: %s has no default in the code" % (path.name, name)


def test_variables_doc_lists_every_playbook_variable():
    doc = (REPO / "docs/variables.md").read_text()
    assert "## Playbook variables" in doc
    for path in PLAYBOOKS:
        for name in render_variables_doc.playbook_variables(path):
            assert "| `%s` |" % name in doc, name
