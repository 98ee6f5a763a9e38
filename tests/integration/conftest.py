"""Fixtures: a real primary + streaming standby, and a runner that calls modules through Ansible."""

from __future__ import annotations

import pytest

from .ansible_runner import AnsibleResult, run_module
from .pgcluster import Lab


@pytest.fixture(scope="session")
def lab():
    """One primary and one standby streaming through slot ``standby1``, for the whole session."""
    cluster = Lab().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def module(lab):
    """Call a module on localhost the way ansible runs it: ``module(name, args, check=False)``."""

    def call(name: str, args: dict, check: bool = False, node=None) -> AnsibleResult:
        node = node or lab.primary
        return run_module(name, dict(node.conn_args, **args), check=check)

    return call
