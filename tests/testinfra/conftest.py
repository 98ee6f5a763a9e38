"""Host-level checks of a converged cluster, run with testinfra against a live inventory.

They need hosts to look at, so they run only when pytest is given some (`--hosts`), for
instance by tests/molecule/test_scenarios.py after a scenario converged::

    pytest tests/testinfra --hosts=ansible://all --ansible-inventory=<inventory> \
        --pgrepl-secret=<password>

Without --hosts (a plain `pytest tests`), testinfra would check the machine running pytest:
this directory is then not collected at all.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pgrepl-secret", action="append", default=[], metavar="TEXT",
        help="a password that must not appear in any file under /etc/postgresql (repeatable)")
    parser.addoption(
        "--pgrepl-group", action="append", default=[], metavar="HOST=GROUP",
        help="the inventory group of a host reached without an Ansible inventory, such as "
             "podman://HOST (repeatable)")


def pytest_ignore_collect(collection_path, config: pytest.Config) -> bool | None:
    if collection_path.name.startswith("test_") and not config.getoption("hosts", None):
        return True
    return None


@pytest.fixture(scope="session")
def secrets(request: pytest.FixtureRequest) -> list[str]:
    found = list(request.config.getoption("--pgrepl-secret"))
    assert found, "no --pgrepl-secret given: the password check would prove nothing"
    return found


@pytest.fixture(scope="session")
def given_groups(request: pytest.FixtureRequest) -> dict[str, str]:
    """HOST=GROUP pairs of --pgrepl-group (empty with an Ansible inventory)."""
    pairs = [item.split("=", 1) for item in request.config.getoption("--pgrepl-group")]
    assert all(len(pair) == 2 for pair in pairs), "--pgrepl-group takes HOST=GROUP"
    return dict(pairs)
