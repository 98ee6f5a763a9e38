"""The lab benchmark's pure helpers (bench/ratios.py): medians, ratios, merged task
sequences, import-time parsing, the table. No lab, no timing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from ratios import (
    Row,
    any_missed,
    expected_calls,
    lcs_length,
    median,
    merge_sequences,
    parse_importtime,
    playbook_steps,
    ratio,
    render_markdown,
    render_terminal,
    top_level_imports,
)


def test_median_odd_even_and_empty() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError):
        median([])


def test_ratio_refuses_a_zero_denominator() -> None:
    assert ratio(3.0, 2.0) == 1.5
    with pytest.raises(ValueError):
        ratio(1.0, 0.0)


def test_merge_keeps_both_orders_and_counts_shared_steps_once() -> None:
    left, right = ["facts", "a", "b", "d"], ["facts", "a", "c", "d"]
    merged = merge_sequences(left, right)
    assert len(merged) == 5
    assert lcs_length(left, right) == 3
    for sequence in (left, right):  # each is a subsequence of the merge
        found = iter(merged)
        assert all(item in found for item in sequence)


def test_steps_of_a_run_with_primary_only_and_standby_only_tasks() -> None:
    tasks = {"pg1": ["facts", "check", "primary role", "status"],
             "pg2": ["facts", "check", "standby role", "status"],
             "pg3": ["facts", "check", "standby role", "status"]}
    assert playbook_steps(tasks) == 5
    # pg2 ran a 3-item loop in one of its steps: 2 calls more than its task names
    calls = {"pg1": 4, "pg2": 6, "pg3": 4}
    assert expected_calls(calls, tasks) == 7
    assert playbook_steps({}) == 0


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:       200 |        300 | io
import time:       500 |       5000 | ansible.module_utils.basic
import time:        50 |       1500 |   psycopg2
import time:        70 |       9000 | ansible_collections.pgrepl.streaming.plugins.modules.x
"""


def test_importtime_parsing() -> None:
    found = parse_importtime(IMPORTTIME)
    assert found["psycopg2"] == 1500
    assert found["io"] == 300
    assert "imported package" not in found
    top = top_level_imports(IMPORTTIME, 2)
    assert top == [("ansible_collections.pgrepl.streaming.plugins.modules.x", 9000),
                   ("ansible.module_utils.basic", 5000)]


def test_rows_table_and_verdicts() -> None:
    rows = [Row("rerun", "rerun / calls", 1.5, {"podman": 1.2, "ssh": 1.7}, why="ssh: slow"),
            Row("catchup", "catch-up", None, {"podman": 9.0})]
    markdown = render_markdown(rows, ["podman", "ssh"])
    lines = markdown.splitlines()
    assert lines[0] == "| # | figure | target | podman | ssh | why (when missed) |"
    assert lines[2] == "| 1 | rerun / calls | <= 1.50 | 1.20 met | 1.70 MISSED | ssh: slow |"
    assert lines[3] == "| 2 | catch-up | none set | 9.00 (no target) | not measured |  |"
    assert "MISSED" in render_terminal(rows, ["podman", "ssh"])
    assert any_missed(rows)
    assert not any_missed(rows[1:])
    assert rows[0].met("podman") is True
    assert rows[1].met("podman") is None
