"""Static checks, run as tests so that one pytest summary covers them with everything else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py")
                 if p.stem != "__init__")

pytestmark = pytest.mark.lint


def run(*cmd: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""),
                    ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, "%s failed (rc=%d)\n%s\n%s" % (
        " ".join(cmd), proc.returncode, proc.stdout[-20000:], proc.stderr[-20000:])
    return proc


def test_ruff():
    run(str(BIN / "ruff"), "check", ".")


def test_yamllint():
    run(str(BIN / "yamllint"), "--strict", ".")


def test_ansible_lint_production_profile():
    run(str(BIN / "ansible-lint"), "--profile", "production", "--offline")


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders(module):
    out = run(str(BIN / "ansible-doc"), "pgrepl.streaming." + module).stdout
    assert "OPTIONS" in out and "EXAMPLES" in out and "RETURN VALUES" in out


def test_contract_modules_exist():
    assert {"pg_replication_slot", "pg_replication_status"} <= set(MODULES)


def test_ansible_test_sanity(tmp_path):
    """ansible-test needs the tree at ansible_collections/<ns>/<name>: test a copy of it."""
    dest = tmp_path / "ansible_collections" / "pgrepl" / "streaming"
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    for rel in tracked:
        src = REPO / rel
        if src.is_symlink() or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)
    run(str(BIN / "ansible-test"), "sanity", "--python",
        "%d.%d" % sys.version_info[:2], "--color", "no", cwd=dest)
