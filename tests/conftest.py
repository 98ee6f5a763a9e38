"""Make ``ansible_collections.pgrepl.streaming`` importable from this checkout."""

import sys
from pathlib import Path

_COLLECTIONS = Path(__file__).resolve().parents[1] / "collections"
if str(_COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(_COLLECTIONS))


# --- phase times: the time of each test file (setup, call and teardown; unit and lint as
# one phase each), printed at the end of the run.

_PHASE_SECONDS: dict = {}


def pytest_runtest_logreport(report):
    phase = report.nodeid.split("::", 1)[0]
    if phase.startswith(("tests/unit/", "tests/lint/")):  # many small files: one line each
        phase = "/".join(phase.split("/")[:2])
    _PHASE_SECONDS[phase] = _PHASE_SECONDS.get(phase, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _PHASE_SECONDS:
        return
    terminalreporter.section("time per phase (test file)")
    for phase, seconds in sorted(_PHASE_SECONDS.items()):
        terminalreporter.write_line("%8.1f s  %s" % (seconds, phase))
    terminalreporter.write_line("%8.1f s  total" % sum(_PHASE_SECONDS.values()))
