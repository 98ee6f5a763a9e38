"""Run one collection module through the ``ansible`` CLI and return its parsed result.

The module is executed exactly as in a playbook (AnsiballZ payload, argument spec, check
mode), on localhost with the controller's Python, and its JSON result is read back through
the ``json`` stdout callback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class AnsibleResult:
    rc: int
    result: dict
    stdout: str
    stderr: str

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))

    @property
    def msg(self) -> str:
        return str(self.result.get("msg", ""))

    def __getitem__(self, key):
        return self.result[key]

    def get(self, key, default=None):
        return self.result.get(key, default)


def ansible_env() -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / "collections"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="json",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


def run_module(name: str, args: dict, check: bool = False, verbosity: int = 0) -> AnsibleResult:
    fqcn = name if "." in name else "pgrepl.streaming." + name
    cmd = [
        str(Path(sys.executable).parent / "ansible"), "localhost", "-c", "local",
        "-e", "ansible_python_interpreter=" + sys.executable,
        "-m", fqcn, "-a", json.dumps(args),
    ]
    if check:
        cmd.append("--check")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), cwd=REPO,
                          timeout=600, check=False)
    try:
        data = json.loads(proc.stdout)
        result = data["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(
            "could not read the result of %s (rc=%s): %s\nstdout:\n%s\nstderr:\n%s"
            % (fqcn, proc.returncode, exc, proc.stdout, proc.stderr)
        ) from exc
    return AnsibleResult(proc.returncode, result, proc.stdout, proc.stderr)
