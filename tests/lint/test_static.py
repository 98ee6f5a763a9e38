"""Static checks, run as tests so that one pytest summary covers them with everything else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py")
                 if p.stem != "__init__")

pytestmark = pytest.mark.lint


def run(*cmd: str, cwd: Path = REPO, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""),
                    ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=1800, check=False)
    if check:
        assert proc.returncode == 0, "%s failed (rc=%d)\n%s\n%s" % (
            " ".join(cmd), proc.returncode, proc.stdout[-20000:], proc.stderr[-20000:])
    return proc


def test_ruff():
    run(str(BIN / "ruff"), "check", ".")


def test_yamllint():
    run(str(BIN / "yamllint"), "--strict", ".")


def test_ansible_lint_production_profile(tmp_path):
    # A home of its own: ansible-lint finds ~/.ansible/collections before this checkout, and
    # Molecule installs the collection there (a snapshot, perhaps of another commit).
    run(str(BIN / "ansible-lint"), "--profile", "production", "--offline",
        env={"HOME": str(tmp_path)})


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders(module):
    out = run(str(BIN / "ansible-doc"), "pgrepl.streaming." + module).stdout
    assert "OPTIONS" in out and "EXAMPLES" in out and "RETURN VALUES" in out


def test_contract_modules_exist():
    assert {"pg_replication_slot", "pg_replication_status"} <= set(MODULES)


def copy_tracked_tree(dest: Path) -> None:
    """Copy the files git knows (tracked or not ignored), keeping their modes."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for rel in listed:
        src = REPO / rel
        if src.is_symlink() or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)


def ansible_test_home() -> Path:
    """HOME for ansible-test, kept in the checkout's .cache so its sanity venvs are reused.

    Each sanity venv starts without pip and runs ~/.ansible/test/cache/get_pip_<v>.py, a
    script ansible-test otherwise downloads from a host this machine cannot reach; our own
    tests/lint/pip_bootstrap.py takes its place (ensurepip, then pip from the package index).
    """
    # Imported here: ansible-test's internals are only needed (and only stable) for this test.
    from ansible_test._internal.python_requirements import get_venv_packages

    python = SimpleNamespace(version="%d.%d" % sys.version_info[:2])
    pip_version = get_venv_packages(python)["pip"]
    home = REPO / ".cache" / "ansible-test-home"
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).with_name("pip_bootstrap.py"),
                    cache / ("get_pip_%s.py" % pip_version.replace(".", "_")))
    return home


def sanity_problems(output: str) -> str:
    """The lines that say what failed, without the pip install chatter around them."""
    keep = ("ERROR", "FATAL", "WARNING", "Running sanity test")
    return "\n".join(line for line in output.splitlines() if line.startswith(keep))


def test_ansible_test_sanity(tmp_path):
    """ansible-test needs the tree at ansible_collections/<ns>/<name>: test a copy of it."""
    dest = tmp_path / "ansible_collections" / "pgrepl" / "streaming"
    copy_tracked_tree(dest)
    proc = run(str(BIN / "ansible-test"), "sanity", "--python",
               "%d.%d" % sys.version_info[:2], "--color", "no", cwd=dest,
               env={"HOME": str(ansible_test_home())}, check=False)
    assert proc.returncode == 0, sanity_problems(proc.stdout + "\n" + proc.stderr)
