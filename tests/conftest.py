"""Make ``ansible_collections.pgrepl.streaming`` importable from this checkout; the lanes of
a parallel run (`make test`: pytest -n 2 --dist loadgroup); the time of each phase."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

_COLLECTIONS = Path(__file__).resolve().parents[1] / "collections"
if str(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(_COLLECTIONS))


# --- lanes: `make test` runs two pytest-xdist workers (gw0, gw1) with --dist loadgroup and
# --no-loadscope-reorder. Everything that shares containers, a podman network, a .cache/ state
# dir or a session fixture is one xdist group, so one worker runs all of it, in file order:
#   faultlab         test_faults.py and test_lifecycle.py share the session's fault lab
#                    (pgrepl-faults-pg1..3, tests/system/conftest.py), and the lifecycle tests
#                    need the state the fault tests leave;
#   faultlab-trixie  test_l4: a child pytest on a Debian 13 lab of its own
#                    (pgrepl-faults-trixie-pg1..3), nothing shared with the one above;
#   molecule         both Molecule scenarios: each `molecule test` starts with a prerun that
#                    reinstalls the collection into ~/.ansible/collections, which the other
#                    scenario's playbooks would be reading;
#   adopt            test_adopt.py's lab (pgrepl-adopt-pg1..3);
#   integration      one session `lab` (initdb clusters on free local ports) for every file.
# Any other test file is a group of its own (its module fixtures are built once). The groups
# are handed out in _ORDER, the longest first, so both lanes end at about the same time.

_GROUPS = (  # (node id prefix, group): the first match wins
    ("tests/system/test_lifecycle.py::test_l4", "faultlab-trixie"),
    ("tests/system/test_faults.py", "faultlab"),
    ("tests/system/test_lifecycle.py", "faultlab"),
    ("tests/molecule/", "molecule"),
    ("tests/system/test_adopt.py", "adopt"),
    ("tests/integration/", "integration"),
)
# Sequential minutes of the last runs: faultlab 21, molecule 22, faultlab-trixie 5.5, adopt 5,
# test_static.py (ansible-test sanity) 4.5, integration 4; then everything else, ~2.
_ORDER = ("faultlab", "molecule", "faultlab-trixie", "adopt", "tests/lint/test_static.py",
          "integration")


def xdist_group_of(nodeid: str) -> str:
    for prefix, group in _GROUPS:
        if nodeid.startswith(prefix):
            return group
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    groups = {}
    for item in items:
        groups[item] = xdist_group_of(item.nodeid)
        item.add_marker(pytest.mark.xdist_group(groups[item]))

    def rank(item):
        group = groups[item]
        return _ORDER.index(group) if group in _ORDER else len(_ORDER)

    items.sort(key=rank)  # stable: file order within a group


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup, with the groups taken from the node ids by xdist_group_of().

    pytest-xdist 3.8's own loadgroup does not group under pytest 9.2: its worker hook renames
    each item (item._nodeid += "@group"), and pytest 9 no longer reads that attribute, so every
    test became a scope of its own and the labs' tests were spread over both workers. The
    controller computes the same groups from the plain node ids instead; the scheduling is
    xdist's loadscope one (a worker is given the next group when it has two tests left)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LaneScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return xdist_group_of(nodeid)

    return LaneScheduling(config, log)


# --- phase times: the time of each test file (setup, call and teardown; unit and lint as
# one phase each), the lane (xdist worker) that ran it and when, and the run's wall time,
# printed at the end of the run. Under xdist the workers' reports reach this hook in the
# controller, which prints the summary.

_PHASES: dict = {}
_STARTED = {"wall": time.time()}


def pytest_sessionstart(session):
    _STARTED["wall"] = time.time()


def _lane(report) -> str:
    node = getattr(report, "node", None)  # the xdist worker that sent the report
    gateway = getattr(node, "gateway", None)
    return getattr(gateway, "id", None) or getattr(report, "worker_id", None) or "main"


def pytest_runtest_logreport(report):
    phase = report.nodeid.split("::", 1)[0]
    if phase.startswith(("tests/unit/", "tests/lint/")):  # many small files: one line each
        phase = "/".join(phase.split("/")[:2])
    row = _PHASES.setdefault(phase, {"seconds": 0.0, "lanes": set(), "first": None,
                                     "last": None})
    row["seconds"] += report.duration
    row["lanes"].add(_lane(report))
    start = getattr(report, "start", 0) or 0
    stop = getattr(report, "stop", 0) or 0
    if start:
        row["first"] = start if row["first"] is None else min(row["first"], start)
    if stop:
        row["last"] = stop if row["last"] is None else max(row["last"], stop)


def _minutes(seconds: float) -> str:
    return "%d:%02d" % divmod(round(seconds), 60)


def pytest_terminal_summary(terminalreporter, config):
    if not _PHASES or hasattr(config, "workerinput"):
        return
    begin = _STARTED["wall"]
    write = terminalreporter.write_line
    terminalreporter.section("time per phase (test file)")
    write("%8s  %-9s %-13s  %s" % ("time", "lane", "from-to", "phase"))
    lanes: dict = {}
    for phase, row in sorted(_PHASES.items(), key=lambda kv: (kv[1]["first"] or 0, kv[0])):
        lane = ",".join(sorted(row["lanes"]))
        span = ""
        if row["first"] and row["last"]:
            span = "%s-%s" % (_minutes(row["first"] - begin), _minutes(row["last"] - begin))
        write("%8.1f s  %-9s %-13s  %s" % (row["seconds"], lane, span, phase))
        for name in row["lanes"]:
            lanes[name] = max(lanes.get(name, 0.0), (row["last"] or begin) - begin)
    write("%8.1f s  total of the phases" % sum(row["seconds"] for row in _PHASES.values()))
    for name, end in sorted(lanes.items()):
        write("%8s    lane %s done after %s" % ("", name, _minutes(end)))
    wall = time.time() - begin
    write("%8.1f s  wall time of the run (%s)" % (wall, _minutes(wall)))
