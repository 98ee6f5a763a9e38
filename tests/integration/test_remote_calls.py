"""The remote-call counter of the tests (tests/callback_plugins/remote_calls.py) with a real
ansible-playbook run on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def test_counts_remote_calls_and_loop_items_but_not_local_or_skipped(tmp_path: Path) -> None:
    out = tmp_path / "calls.jsonl"
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tests" / "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="remote_calls", PGREPL_REMOTE_CALLS_FILE=str(out))
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local",
         "-e", "ansible_python_interpreter=" + sys.executable,
         str(REPO / "tests" / "integration" / "playbooks" / "remote_calls.yml")],
        env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(runs) == 1
    assert runs[0]["playbook"] == "remote_calls.yml"
    assert runs[0]["calls"] == {"localhost": 5}
    assert runs[0]["tasks"]["localhost"] == ["A remote call", "A loop of three remote calls",
                                             "A skipped loop item"]
