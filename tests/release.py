"""The collection as a user gets it: the built tarball, installed outside this checkout.

``build_and_install(tmp_path)`` builds ``pgrepl-streaming-<version>.tar.gz`` from the
working tree with ``ansible-galaxy collection build`` and installs it offline into an empty
collections path under ``tmp_path``, which it returns. ``installed_env(path)`` is the
environment to run Ansible against that installation only: no ``ANSIBLE_*`` setting of the
caller (so no ``ANSIBLE_CONFIG`` and none of this checkout's ``ansible.cfg``), the collection
found through ``ANSIBLE_COLLECTIONS_PATH`` alone. Run the tools with a working directory
outside the checkout, so that no ``ansible.cfg`` there is read either.

Used by tests/lint/test_release.py; a container test can run ``pgrepl.streaming.site``
against a real lab the same way::

    collections = build_and_install(tmp_path)
    env = installed_env(collections, scan_sys_path=True, ANSIBLE_CONNECTION_PLUGINS="...")
    subprocess.run(["ansible-playbook", "pgrepl.streaming.site", "-i", inventory],
                   cwd=tmp_path, env=env, check=True)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NAMESPACE = "pgrepl"
NAME = "streaming"


class ReleaseError(RuntimeError):
    """A build or install step failed; the message carries the command and its output."""


def galaxy() -> dict:
    """galaxy.yml of this checkout."""
    with open(REPO / "galaxy.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def tarball_name(version: str | None = None) -> str:
    """File name ``ansible-galaxy collection build`` gives the tarball."""
    return "%s-%s-%s.tar.gz" % (NAMESPACE, NAME, version or galaxy()["version"])


def installed_env(collections_path: Path | None = None, *, scan_sys_path: bool = False,
                  **extra: str) -> dict[str, str]:
    """os.environ without any ANSIBLE_* variable, the venv's tools first on PATH.

    With ``collections_path``, collections are looked up there and nowhere else: not in
    ~/.ansible/collections and, unless ``scan_sys_path``, not in the Python installation's
    ansible_collections either (where the ``ansible`` package puts containers.podman, which a
    lab's connection plugin may need). ``extra`` is added last (e.g. a connection plugin
    path for a lab).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    if collections_path is not None:
        env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path),
                   ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=str(scan_sys_path).lower())
    env.update(extra)
    return env


def run_tool(args: Sequence[str], cwd: Path, env: dict[str, str],
             timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a venv tool (first element of ``args``) and raise ReleaseError unless it exits 0."""
    cmd = [str(BIN / args[0]), *args[1:]]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise ReleaseError("%s (in %s) failed with rc=%d\n--- stdout\n%s\n--- stderr\n%s" % (
            " ".join(cmd), cwd, proc.returncode, proc.stdout[-10000:], proc.stderr[-10000:]))
    return proc


def build(out_dir: Path) -> Path:
    """Build the tarball of this working tree into ``out_dir``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run_tool(["ansible-galaxy", "collection", "build", "--output-path", str(out_dir),
              str(REPO)], cwd=out_dir, env=installed_env())
    tarball = out_dir / tarball_name()
    if not tarball.is_file():
        raise ReleaseError("the build made no %s in %s" % (tarball.name, out_dir))
    return tarball


def install(tarball: Path, collections_path: Path) -> Path:
    """Install ``tarball`` offline into ``collections_path``; returns the collection's dir."""
    collections_path.mkdir(parents=True, exist_ok=True)
    run_tool(["ansible-galaxy", "collection", "install", "--offline", "-p",
              str(collections_path), str(tarball)],
             cwd=tarball.parent, env=installed_env(collections_path))
    installed = collections_path / "ansible_collections" / NAMESPACE / NAME
    if not (installed / "MANIFEST.json").is_file():
        raise ReleaseError("no MANIFEST.json in %s after the install" % installed)
    return installed


def build_and_install(tmp_path: Path) -> Path:
    """Build the tarball into ``tmp_path/dist`` and install it into ``tmp_path/collections``.

    Returns the collections path (the directory that holds ``ansible_collections``), to be
    passed to ``installed_env``. The tarball is ``tmp_path/dist/<tarball_name()>``.
    """
    tarball = build(tmp_path / "dist")
    collections_path = tmp_path / "collections"
    install(tarball, collections_path)
    return collections_path
