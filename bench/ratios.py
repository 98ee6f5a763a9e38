"""Pure helpers of the lab benchmark (bench/lab.py): medians, ratios, merged task sequences,
import-time parsing and the Markdown/terminal table. No I/O here; tests in tests/unit/bench/.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Sequence


def median(values: Sequence[float]) -> float:
    """Median of at least one value."""
    if not values:
        raise ValueError("median of no values")
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; a zero or negative denominator is an error, not infinity."""
    if denominator <= 0:
        raise ValueError("ratio with a denominator of %r" % denominator)
    return numerator / denominator


def lcs_length(left: Sequence[str], right: Sequence[str]) -> int:
    """Length of the longest common subsequence of two sequences."""
    previous = [0] * (len(right) + 1)
    for item in left:
        current = [0]
        for index, other in enumerate(right):
            current.append(previous[index] + 1 if item == other
                           else max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]


def merge_sequences(left: Sequence[str], right: Sequence[str]) -> list[str]:
    """A shortest common supersequence of two sequences (both are subsequences of it)."""
    rows, cols = len(left), len(right)
    table = [[0] * (cols + 1) for _row in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if left[i] == right[j]
                           else max(table[i + 1][j], table[i][j + 1]))
    merged: list[str] = []
    i = j = 0
    while i < rows and j < cols:
        if left[i] == right[j]:
            merged.append(left[i])
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    return merged + list(left[i:]) + list(right[j:])


def playbook_steps(tasks: dict[str, list[str]]) -> int:
    """How many task steps a linear-strategy run went through, from each host's task names.

    Every host runs the play's tasks in one order, so each host's list is a subsequence of the
    run's steps; their merged supersequence (pairwise, shortest) counts a step that several
    hosts ran once.
    """
    merged: list[str] = []
    for host in sorted(tasks):
        merged = merge_sequences(merged, tasks[host])
    return len(merged)


def expected_calls(calls: dict[str, int], tasks: dict[str, list[str]]) -> int:
    """Remote calls on the run's critical path: its steps, plus the extra loop items of the
    host with the most (a loop's items run one after the other on a host)."""
    extra = max((calls.get(host, 0) - len(names) for host, names in tasks.items()), default=0)
    return playbook_steps(tasks) + max(extra, 0)


def parse_importtime(stderr: str) -> dict[str, int]:
    """`python3 -X importtime` output -> {module: cumulative microseconds} (first import wins)."""
    found: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3:
            continue
        try:
            cumulative = int(parts[1].strip())
        except ValueError:  # the header line
            continue
        found.setdefault(parts[2].strip(), cumulative)
    return found


def top_level_imports(stderr: str, limit: int = 8) -> list[tuple[str, int]]:
    """The slowest imports at nesting level 0 (no leading spaces before the name)."""
    top: list[tuple[str, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or parts[2].startswith("  ") or not parts[1].strip().isdigit():
            continue
        top.append((parts[2].strip(), int(parts[1].strip())))
    return sorted(top, key=lambda item: -item[1])[:limit]


@dataclass
class Row:
    """One figure of the table: a ratio per transport against its target (None: no target)."""

    key: str
    title: str
    target: float | None
    values: dict[str, float | None] = field(default_factory=dict)
    why: str = ""

    def met(self, transport: str) -> bool | None:
        value = self.values.get(transport)
        if value is None or self.target is None:
            return None
        return value <= self.target


def verdict(row: Row, transport: str) -> str:
    value = row.values.get(transport)
    if value is None:
        return "not measured"
    met = row.met(transport)
    if met is None:
        return "%.2f (no target)" % value
    return "%.2f %s" % (value, "met" if met else "MISSED")


def render_markdown(rows: Sequence[Row], transports: Sequence[str]) -> str:
    """The doc's table: one line per figure, a column per transport, the target, why missed."""
    head = "| # | figure | target | %s | why (when missed) |" % " | ".join(transports)
    lines = [head, "|" + "---|" * (len(transports) + 4)]
    for number, row in enumerate(rows, 1):
        target = "<= %.2f" % row.target if row.target is not None else "none set"
        cells = [verdict(row, transport) for transport in transports]
        lines.append("| %d | %s | %s | %s | %s |" % (
            number, row.title, target, " | ".join(cells), row.why or ""))
    return "\n".join(lines) + "\n"


def render_terminal(rows: Sequence[Row], transports: Sequence[str]) -> str:
    """The same table for the terminal, fixed-width."""
    width = max(len(row.key) for row in rows) if rows else 10
    lines = ["%-*s %9s  %s" % (width, "figure", "target",
                               "  ".join("%-18s" % name for name in transports))]
    for row in rows:
        target = "<=%.2f" % row.target if row.target is not None else "-"
        lines.append("%-*s %9s  %s" % (width, row.key, target, "  ".join(
            "%-18s" % verdict(row, transport) for transport in transports)))
    return "\n".join(lines) + "\n"


def any_missed(rows: Sequence[Row]) -> bool:
    return any(row.met(transport) is False for row in rows for transport in row.values)
