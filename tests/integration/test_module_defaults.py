"""meta/runtime.yml's action group: module_defaults for group/pgrepl.streaming.postgresql
reach every module of it, as the primary role and playbooks/slots.yml rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from .ansible_runner import REPO, ansible_env

SHOW = ("{{ {'roles': [status.role, standby.role], 'slot': slot.changed,"
        " 'user': user.changed} }}")


def test_group_module_defaults_connect_every_module(lab, tmp_path):
    playbook = [{
        "name": "Connection options from module_defaults only",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "module_defaults": {"group/pgrepl.streaming.postgresql": lab.primary.conn_args},
        "tasks": [
            {"name": "Status", "pgrepl.streaming.pg_replication_status": None,
             "register": "status"},
            {"name": "Slot", "pgrepl.streaming.pg_replication_slot": {"name": "it_md"},
             "check_mode": True, "register": "slot"},
            {"name": "User", "pgrepl.streaming.pg_replication_user": {
                "name": "it_md", "password": "x"}, "check_mode": True, "register": "user"},
            # A block's group defaults win over the play's.
            {"name": "Block", "module_defaults": {"group/pgrepl.streaming.postgresql": dict(
                lab.standby.conn_args)},
             "block": [{"name": "Standby status",
                        "pgrepl.streaming.pg_replication_status": None,
                        "register": "standby"}]},
            {"name": "Show", "ansible.builtin.debug": {"msg": SHOW}},
        ],
    }]
    path = tmp_path / "defaults.yml"
    path.write_text(yaml.safe_dump(playbook))
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(path)],
        cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    shown = tasks[-1]["hosts"]["localhost"]["msg"]
    assert shown == {"roles": ["primary", "standby"], "slot": True, "user": True}
