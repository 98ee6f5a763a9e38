"""The release (issue 11): the generated changelog and the tarball a user installs.

The changelog: the fragments lint, CHANGELOG.md is exactly what antsibull-changelog
generates from changelogs/changelog.yaml, and galaxy.yml names the latest release there.
The tarball: built from this working tree, it holds the collection and none of the
checkout's tests, lab or tools; installed offline into an empty path, its modules, roles and
playbooks work from a directory outside the checkout with no ansible.cfg.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import tarfile

import pytest
import yaml
from packaging.version import Version

from ..release import (
    NAME,
    NAMESPACE,
    REPO,
    build,
    galaxy,
    install,
    installed_env,
    run_tool,
)

pytestmark = pytest.mark.lint

ROLES = ("postgresql", "primary", "standby")
PLAYBOOKS = ("site", "status", "slots", "promote", "switchover", "rejoin")

# Top-level entries a tarball may hold: anything else is something build_ignore missed.
ALLOWED_TOP = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "site.yml",
               "changelogs", "docs", "inventory", "meta", "playbooks", "plugins", "roles"}
REQUIRED = {
    "MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "meta/runtime.yml",
    "changelogs/changelog.yaml", "inventory/example.yml", "site.yml",
    "plugins/modules/pg_replication_slot.py", "plugins/modules/pg_replication_status.py",
    *("playbooks/%s.yml" % name for name in PLAYBOOKS),
    *("roles/%s/tasks/main.yml" % role for role in ROLES),
    *("roles/%s/meta/argument_specs.yml" % role for role in ROLES),
}
# Checkout-only paths (a prefix ending in "/" is a directory).
FORBIDDEN = ("tests/", "bench/", ".ci/", "molecule/", "scripts/", "collections/", ".cache/",
             ".venv/", ".git/", ".ansible/", ".pytest_cache/", ".ruff_cache/",
             "changelogs/fragments/", "changelogs/.plugin-cache.yaml", "Makefile",
             "pyproject.toml", "requirements-dev.txt", "ansible.cfg", ".gitignore",
             ".yamllint", ".ansible-lint")
# Directories of the collection proper: every file in them must ship.
SHIPPED_DIRS = ("roles", "plugins", "playbooks", "meta")

INVENTORY = """\
all:
  children:
    primary:
      hosts:
        db1: {}
    standby:
      hosts:
        db2: {}
        db3: {}
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The built tarball, its member names, and the collections path it is installed in."""
    tmp = tmp_path_factory.mktemp("release")
    tarball = build(tmp / "dist")
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
    collections = tmp / "collections"
    install(tarball, collections)
    workdir = tmp / "elsewhere"  # the tools' cwd: outside the checkout, no ansible.cfg
    workdir.mkdir()
    (workdir / "inventory.yml").write_text(INVENTORY)
    return {"tarball": tarball, "members": members, "collections": collections,
            "workdir": workdir}


def run_installed(release, *args: str):
    return run_tool(args, cwd=release["workdir"], env=installed_env(release["collections"]))


# --- changelog


def test_changelog_fragments_lint():
    env = installed_env()
    run_tool(["antsibull-changelog", "lint"], cwd=REPO, env=env)
    run_tool(["antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml"],
             cwd=REPO, env=env)


def test_changelog_md_is_generated(tmp_path):
    copy = tmp_path / "checkout"
    copy.mkdir()
    shutil.copy2(REPO / "galaxy.yml", copy)
    shutil.copytree(REPO / "changelogs", copy / "changelogs",
                    ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    run_tool(["antsibull-changelog", "generate"], cwd=copy, env=installed_env())
    assert filecmp.cmp(copy / "CHANGELOG.md", REPO / "CHANGELOG.md", shallow=False), (
        "CHANGELOG.md is not what antsibull-changelog generates: edit fragments in "
        "changelogs/fragments/ (docs/releasing.md) and run `antsibull-changelog generate`")


def test_galaxy_version_is_the_latest_release():
    with open(REPO / "changelogs" / "changelog.yaml", encoding="utf-8") as handle:
        releases = yaml.safe_load(handle)["releases"]
    latest = max(releases, key=Version)
    assert galaxy()["version"] == latest, (
        "galaxy.yml says %s, the latest release in changelogs/changelog.yaml is %s"
        % (galaxy()["version"], latest))


# --- tarball contents


def test_tarball_holds_the_collection(release):
    names = {member.name.rstrip("/") for member in release["members"]}
    assert not REQUIRED - names, "missing from the tarball: %s" % sorted(REQUIRED - names)
    on_disk = {
        path.relative_to(REPO).as_posix()
        for top in SHIPPED_DIRS
        for path in (REPO / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert not on_disk - names, "not shipped: %s" % sorted(on_disk - names)


def test_tarball_leaves_the_checkout_out(release):
    names = sorted(member.name.rstrip("/") for member in release["members"])
    forbidden = [name for name in names
                 if any(name == prefix.rstrip("/") or name.startswith(prefix)
                        for prefix in FORBIDDEN)]
    assert not forbidden, "checkout-only files in the tarball: %s" % forbidden
    unexpected = sorted({name.split("/")[0] for name in names} - ALLOWED_TOP)
    assert not unexpected, "unexpected top-level entries (build_ignore?): %s" % unexpected
    junk = [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert not junk, junk
    links = [member.name for member in release["members"] if member.issym() or member.islnk()]
    assert not links, "links in the tarball: %s" % links


def test_manifest_names_this_collection(release):
    with tarfile.open(release["tarball"]) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (
        NAMESPACE, NAME, galaxy()["version"])
    assert info["dependencies"] == {}


# --- the installed collection, from outside the checkout


def test_installed_files_match_the_manifest(release):
    run_installed(release, "ansible-galaxy", "collection", "verify", "--offline",
                  "-p", str(release["collections"]), "%s.%s" % (NAMESPACE, NAME))


@pytest.mark.parametrize("module", ["pg_replication_slot", "pg_replication_status"])
def test_installed_module_docs(release, module):
    out = run_installed(release, "ansible-doc", "%s.%s.%s" % (NAMESPACE, NAME, module)).stdout
    assert "OPTIONS" in out and "EXAMPLES" in out, out


def test_installed_role_docs(release):
    fqcns = ["%s.%s.%s" % (NAMESPACE, NAME, role) for role in ROLES]
    listed = json.loads(run_installed(release, "ansible-doc", "-t", "role", "-l", "--json",
                                      "%s.%s" % (NAMESPACE, NAME)).stdout)
    assert set(fqcns) <= set(listed), listed
    docs = json.loads(run_installed(release, "ansible-doc", "-t", "role", "--json",
                                    *fqcns).stdout)
    for fqcn in fqcns:
        assert docs[fqcn]["entry_points"]["main"]["options"], fqcn
    text = run_installed(release, "ansible-doc", "-t", "role", *fqcns).stdout
    for fqcn in fqcns:
        assert "ROLE: *%s*" % fqcn in text, text


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_installed_playbook_syntax(release, playbook):
    out = run_installed(release, "ansible-playbook", "%s.%s.%s" % (NAMESPACE, NAME, playbook),
                        "--syntax-check", "-i", "inventory.yml").stdout
    assert "playbook: " in out, out
