"""The fault lab, converged once per session and shared by test_faults.py and
test_lifecycle.py (PGREPL_FAULTS_KEEP=1 keeps and reuses the containers, for debugging)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.system import faultlab as lab
from tests.system.faultlab import PRIMARY, Cluster, psql


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    lab.require_podman()
    keep = os.environ.get("PGREPL_FAULTS_KEEP") == "1"
    try:
        if not keep:
            lab.lab("down")  # leftovers of an interrupted run
        lab.lab("containers")
        inventory = lab.inventory("base")
        converge = lab.playbook("converge", "site.yml", inventory, verbose=True)
        assert converge.rc == 0, "site.yml failed on the fault lab " + converge.tail()
        psql(PRIMARY, "CREATE TABLE IF NOT EXISTS faults_rows "
                      "(id bigserial PRIMARY KEY, note text NOT NULL)")
        psql(PRIMARY, "INSERT INTO faults_rows (note) "
                      "SELECT 'seed ' || g FROM generate_series(1, 1000) g")
        lab.wait_streaming()
        lab.write_and_wait()
        yield Cluster(inventory, converge)
    finally:
        if not keep:
            lab.lab("down")
