"""Molecule scenarios on real systemd containers, run as pytest tests.

Each test runs `molecule test -s <scenario>` with one distribution's image, saves the whole
output under tests/output/, and asserts what Molecule alone would not: the second converge
changed nothing, and the replication password never shows up in the output. The scenario
keeps its containers after verify: the host-level checks of tests/testinfra then run against
Molecule's own inventory (over SSH, as Ansible logged in), and `molecule destroy` ends the
test whatever happened. Phase timings (taken from the time each phase starts in the output,
plus testinfra and destroy) are printed and saved beside it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .hostenv import BIN, REPO, require_podman, tool_env

OUTPUT = REPO / "tests" / "output"
# Molecule announces each phase as "[default > converge] Executing" (without colours) or
# "default ➜ converge: Executing" (with them).
PHASE = re.compile(r"(?:\[[\w-]+ > (?P<plain>[\w-]+)\]|➜ (?P<fancy>[\w-]+):) Executing")
RECAP = re.compile(r"^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)", re.MULTILINE)

pytestmark = pytest.mark.molecule

# Debian 13 / PostgreSQL 17 runs the scenario `topology` (tests/molecule/test_topology.py),
# whose verify imports the default one: converge, idempotence, check mode and verify run
# once per distribution.
SCENARIOS = [
    pytest.param("default", "bookworm", id="default-debian12-pg15"),
]


# The most remote module calls a host may make in the idempotent rerun (issue 10): counted by
# tests/callback_plugins/remote_calls.py, which leaves out the controller's own actions.
MAX_RERUN_CALLS = 25


def molecule_env(distro: str, scenario: str | None = None,
                 calls_file: Path | None = None) -> dict[str, str]:
    """The tools' environment; with ``scenario``, its ephemeral directory at a known place;
    with ``calls_file``, every playbook run appends its remote calls per host there."""
    extra = {"MOLECULE_DISTRO": distro, "NO_COLOR": "1", "PY_COLORS": "0"}
    if scenario:
        extra["MOLECULE_EPHEMERAL_DIRECTORY"] = str(ephemeral_directory(scenario))
    if calls_file:
        calls_file.unlink(missing_ok=True)
        extra.update(ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tests" / "callback_plugins"),
                     ANSIBLE_CALLBACKS_ENABLED="remote_calls",
                     PGREPL_REMOTE_CALLS_FILE=str(calls_file))
    return tool_env(**extra)


def rerun_calls(calls_file: Path) -> dict[str, int]:
    """Remote calls per host of the idempotence phase: the second run of converge.yml."""
    runs = [json.loads(line) for line in calls_file.read_text().splitlines() if line.strip()]
    converges = [run for run in runs if run["playbook"] == "converge.yml"]
    assert len(converges) >= 2, "no idempotence run recorded in %s" % calls_file
    return converges[1]["calls"]


def assert_few_rerun_calls(calls_file: Path) -> None:
    calls = rerun_calls(calls_file)
    print("remote calls per host in the idempotent rerun: %s" % calls)
    over = {host: count for host, count in calls.items() if count > MAX_RERUN_CALLS}
    assert calls and not over, "more than %d remote calls on a rerun: %s (task names in %s)" % (
        MAX_RERUN_CALLS, over, calls_file)


def ephemeral_directory(scenario: str) -> Path:
    """Where Molecule keeps the scenario's inventory, state and (default) SSH files."""
    return REPO / ".cache" / "molecule" / scenario


def run_testinfra(inventory: Path, secrets: list[str], env: dict[str, str], log: Path,
                  ansible_config: Path | None = None) -> tuple[int, str]:
    """tests/testinfra against every host of an Ansible inventory; output teed to log.

    ``ansible_config``: the ansible.cfg Ansible used with that inventory (testinfra takes its
    ssh settings, among them the control path, so it reuses Ansible's master connections).
    """
    cmd = [sys.executable, "-m", "pytest", str(REPO / "tests" / "testinfra"), "-q", "-rfEs",
           "-p", "no:cacheprovider", "--hosts=ansible://all",
           "--ansible-inventory=%s" % inventory]
    cmd += ["--pgrepl-secret=%s" % secret for secret in secrets]
    if ansible_config is not None:
        env = dict(env, ANSIBLE_CONFIG=str(ansible_config))
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    log.write_text(proc.stdout)
    return proc.returncode, proc.stdout


def secrets_of(scenario: str) -> list[str]:
    """Every *password* value in the scenario's inventory variables."""
    config = yaml.safe_load((REPO / "molecule" / scenario / "molecule.yml").read_text())
    groups = config.get("provisioner", {}).get("inventory", {}).get("group_vars", {})
    found = [str(value) for variables in groups.values() for key, value in variables.items()
             if "password" in key]
    assert found, "scenario %s defines no password to watch for" % scenario
    return found


def leak_forms(secret: str) -> set[str]:
    """The secret as printed raw, backslash-escaped (JSON/YAML) or .pgpass-escaped."""
    escaped = secret.replace("\\", "\\\\")
    return {secret, escaped, escaped.replace(":", "\\:")}


def run_timed(cmd: list[str], env: dict[str, str], log: Path) -> tuple[int, str, list]:
    """Run cmd, tee its output to log, note when each Molecule phase starts."""
    phases: list[tuple[str, float]] = []
    lines: list[str] = []
    start = time.monotonic()
    with log.open("w") as sink, subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            lines.append(line)
            match = PHASE.search(line)
            if match:
                phases.append((match["plain"] or match["fancy"], time.monotonic() - start))
    phases.append(("end", time.monotonic() - start))
    return proc.returncode, "".join(lines), phases


def durations(phases: list[tuple[str, float]]) -> list[tuple[str, float]]:
    return [(name, later - at) for (name, at), (_next, later) in zip(phases, phases[1:])]


def phase_output(output: str, phase: str) -> str:
    """What molecule printed during ``phase`` (between it and the next phase)."""
    starts = list(PHASE.finditer(output))
    for index, match in enumerate(starts):
        if (match["plain"] or match["fancy"]) == phase:
            end = starts[index + 1].start() if index + 1 < len(starts) else len(output)
            return output[match.end():end]
    raise AssertionError("the %s phase did not run" % phase)


def changed_hosts(output: str, phase: str) -> dict[str, int]:
    """Hosts with changed > 0 in the play recaps of ``phase``."""
    recaps = RECAP.findall(phase_output(output, phase))
    assert recaps, "no play recap in the %s phase" % phase
    return {host: int(count) for host, count in recaps if int(count)}


@pytest.mark.parametrize(("scenario", "distro"), SCENARIOS)
def test_molecule_scenario(scenario: str, distro: str) -> None:
    name = "molecule-%s-%s" % (scenario, distro)
    calls_file = OUTPUT / (name + ".calls.jsonl")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = molecule_env(distro, scenario, calls_file)
    require_podman(env)
    log = OUTPUT / (name + ".log")
    testinfra_log = OUTPUT / (name + ".testinfra.log")
    molecule = str(BIN / "molecule")
    timed: list[tuple[str, float]] = []
    try:
        rc, output, phases = run_timed([molecule, "test", "-s", scenario], env, log)
        timed += durations(phases)
        testinfra_rc, testinfra_output = -1, ""
        if rc == 0:
            started = time.monotonic()
            ephemeral = ephemeral_directory(scenario)
            testinfra_rc, testinfra_output = run_testinfra(
                ephemeral / "inventory" / "ansible_inventory.yml", secrets_of(scenario), env,
                testinfra_log, ansible_config=ephemeral / "ansible.cfg")
            timed.append(("testinfra", time.monotonic() - started))
    finally:
        started = time.monotonic()
        destroyed = subprocess.run([molecule, "destroy", "-s", scenario], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   check=False)
        timed.append(("destroy", time.monotonic() - started))
        timing = "\n".join("%-12s %6.1f s" % item for item in timed)
        (OUTPUT / (name + ".timings")).write_text(timing + "\n")
        print("\nmolecule %s (%s) phases:\n%s" % (scenario, distro, timing))

    assert rc == 0, "molecule test failed (rc=%d), see %s\n%s" % (rc, log, output[-6000:])
    changed = changed_hosts(output, "idempotence")
    assert not changed, "second converge changed something: %s (see %s)" % (changed, log)
    assert_few_rerun_calls(calls_file)
    # Check mode on the converged cluster must predict exactly that nothing changes.
    predicted = changed_hosts(output, "check")
    assert not predicted, "check mode predicts changes on a converged cluster: %s (see %s)" % (
        predicted, log)
    for secret in secrets_of(scenario):
        for form in leak_forms(secret):
            leaked_here = form in output  # not in the assert: pytest would print the password
            assert not leaked_here, "a replication password appears in %s" % log
            leaked = form in testinfra_output  # (not in the assert: pytest would print it)
            assert not leaked, "a replication password appears in %s" % testinfra_log
    assert testinfra_rc == 0, "testinfra checks failed, see %s\n%s" % (
        testinfra_log, testinfra_output[-6000:])
    assert destroyed.returncode == 0, "molecule destroy failed:\n" + destroyed.stdout[-3000:]
