"""Documentation that is generated, or promised by the README, stays in step with the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.lint


def test_variables_doc_is_current():
    rendered = subprocess.run([sys.executable, str(REPO / "scripts/render_variables_doc.py")],
                              capture_output=True, text=True, check=True).stdout
    assert (REPO / "docs/variables.md").read_text() == rendered, (
        "docs/variables.md is stale: python scripts/render_variables_doc.py > docs/variables.md")


def test_readme_links_resolve():
    text = (REPO / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if "://" not in target:
            assert (REPO / target).exists(), "README links to missing %s" % target


def test_contract_variables_documented():
    doc = (REPO / "docs/variables.md").read_text()
    for name in ("postgresql_version", "postgresql_port", "postgresql_replication_user",
                 "postgresql_replication_password", "postgresql_archive_dir",
                 "standby_primary_host", "standby_force_reclone"):
        assert "`%s`" % name in doc, name


def test_safety_doc_tables_are_current():
    sys.path.insert(0, str(REPO / "scripts"))
    import render_safety_doc

    page = (REPO / "docs/safety.md").read_text()
    assert render_safety_doc.render(page) == page, (
        "docs/safety.md is stale: python scripts/render_safety_doc.py --write")
