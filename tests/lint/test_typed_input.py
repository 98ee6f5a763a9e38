"""Input types: every `-e` value arrives as a string, so a bool or int variable must go through
`| bool` / `| int` wherever the roles use it ("false" is a non-empty, true string). The typed
variables are read from the argument specs, so a new one is checked without editing this test.
Also: no password ever travels in an environment variable (readable in /proc)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CODE = sorted([*REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("roles/*/templates/*.j2"),
               *REPO.glob("roles/*/vars/*.yml"), *REPO.glob("playbooks/*.yml")])

pytestmark = pytest.mark.lint


def typed_variables(kind: str) -> set[str]:
    names = set()
    for spec_file in REPO.glob("roles/*/meta/argument_specs.yml"):
        specs = yaml.safe_load(spec_file.read_text())["argument_specs"]
        for entry in specs.values():
            names |= {name for name, spec in entry.get("options", {}).items()
                      if spec.get("type") == kind}
    return names


def uses_without(names: set[str], conversion: str) -> list[str]:
    """file:line of each use of one of names inside code that is not followed by conversion
    (comments and the text of messages are not code)."""
    found = []
    pattern = re.compile(r"\b(%s)\b(?!:|(\s*\|\s*default\([^)]*\))?\s*\|\s*%s\b)"
                         % ("|".join(sorted(names)), conversion))
    for path in CODE:
        in_message = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if re.match(r"(fail_)?msg:|- (name|msg):|name:", stripped):
                in_message = True
            elif re.match(r"[a-z_]+:", stripped) or stripped.startswith("- "):
                in_message = False
            if stripped.startswith("#") or in_message:
                continue
            if pattern.search(line.split(" #")[0]):
                found.append("%s:%d: %s" % (path.relative_to(REPO), number, stripped))
    return found


def test_there_are_typed_variables():
    assert {"standby_force_reclone", "primary_data_checksums"} <= typed_variables("bool")
    assert {"postgresql_port", "standby_clone_batch"} <= typed_variables("int")


def test_every_bool_goes_through_the_bool_filter():
    assert uses_without(typed_variables("bool"), "bool") == []


def test_every_int_goes_through_the_int_filter():
    assert uses_without(typed_variables("int"), "int") == []


def test_no_password_in_an_environment_variable():
    offenders = []
    for path in CODE:
        text = path.read_text()
        if "PGPASSWORD" in text:
            offenders.append(str(path.relative_to(REPO)))
        for block in re.findall(r"environment:\n((?:\s{4,}.*\n)+)", text):
            if re.search(r"password", block, re.IGNORECASE):
                offenders.append(str(path.relative_to(REPO)) + " (environment)")
    assert offenders == []
