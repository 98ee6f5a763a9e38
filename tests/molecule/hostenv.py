"""The environment both container-based test modules run their tools in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool_env(**extra: str) -> dict[str, str]:
    """os.environ plus the venv's tools, the repo's ansible.cfg and podman settings, no colours."""
    env = dict(os.environ)
    env.update(
        PATH=str(BIN) + os.pathsep + env.get("PATH", ""),
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        CONTAINERS_CONF=str(REPO / "molecule" / "containers.conf"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        **extra,
    )
    return env


def require_podman(env: dict[str, str]) -> str:
    """Fail (never skip) when the container engine is unusable; returns podman's path."""
    podman = shutil.which("podman", path=env["PATH"])
    assert podman, "podman is not installed: run `make deps`"
    probe = subprocess.run([podman, "info"], env=env, capture_output=True, text=True,
                           check=False)
    assert probe.returncode == 0, "podman is unusable:\n" + probe.stderr
    return podman
