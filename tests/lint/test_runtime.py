"""meta/runtime.yml's action group and the shared pieces of the roles stay in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.lint.test_docs import walk

REPO = Path(__file__).resolve().parents[2]
GROUP = "group/pgrepl.streaming.postgresql"

pytestmark = pytest.mark.lint


def task_files():
    return sorted(list((REPO / "roles").glob("*/tasks/*.yml"))
                  + list((REPO / "playbooks").glob("**/*.yml")) + [REPO / "site.yml"])


def connecting_modules():
    """The modules whose options include the connection doc fragment's."""
    return sorted(p.stem for p in (REPO / "plugins/modules").glob("*.py")
                  if "pgrepl.streaming.connection" in p.read_text())


def test_action_group_holds_exactly_the_connecting_modules():
    runtime = yaml.safe_load((REPO / "meta/runtime.yml").read_text())
    group = runtime["action_groups"]["postgresql"]
    # A default such as login_unix_socket would fail a module without the option.
    assert sorted(group) == connecting_modules()


@pytest.mark.parametrize("path", task_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_defaults_name_the_collection_group(path):
    for node in walk(yaml.safe_load(path.read_text())):
        for key in (node.get("module_defaults") or {}):
            assert not key.startswith("group/") or key == GROUP, (path, key)
        if GROUP in (node.get("module_defaults") or {}):
            assert set(node["module_defaults"][GROUP]) >= {"login_unix_socket", "login_port"}


# The psql prefix of the roles (psql as postgres over the local socket) is written once, in
# the postgresql role's preflight.yml, as __postgresql_psql; every other task extends it.
PSQL_PREFIX = re.compile(r"-XAtq\b|ON_ERROR_STOP")


@pytest.mark.parametrize("path", task_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_psql_prefix_is_written_once(path):
    text = path.read_text()
    if path == REPO / "roles/postgresql/tasks/preflight.yml":
        assert "__postgresql_psql:" in text
        assert len(PSQL_PREFIX.findall(text)) == 2
    else:
        assert not PSQL_PREFIX.search(text), "use __postgresql_psql in %s" % path
