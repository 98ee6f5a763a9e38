"""Render the generated tables of docs/safety.md from the code that decides.

The standby decision (plugins/filter/standby_decision.py) is written between the markers
<!-- BEGIN generated: standby-decision --> and <!-- END generated: standby-decision -->, the
failover decision (plugins/filter/promotion_check.py) between the promotion-check ones, the
synchronous_standby_names table (plugins/filter/synchronous_standbys.py) between the
synchronous-standbys ones;
tests/lint/test_docs.py fails when the committed page differs. Rewrite it with
`python scripts/render_safety_doc.py --write`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.pgrepl.streaming.plugins.filter import (  # noqa: E402
    inventory_check,
    promotion_check,
    standby_decision,
    synchronous_standbys,
)

PAGE = REPO / "docs" / "safety.md"
TABLES = {"inventory-check": inventory_check.render_markdown,
          "standby-decision": standby_decision.render_markdown,
          "promotion-check": promotion_check.render_markdown,
          "synchronous-standbys": synchronous_standbys.render_markdown}


def render(text: str) -> str:
    for name, make in TABLES.items():
        begin, end = ("<!-- %s generated: %s -->" % (mark, name) for mark in ("BEGIN", "END"))
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(text):
            raise SystemExit("%s has no %s ... %s markers" % (PAGE, begin, end))
        text = pattern.sub(lambda _m, b=begin, e=end, m=make: "%s\n%s%s" % (b, m(), e), text)
    return text


if __name__ == "__main__":
    current = PAGE.read_text()
    rendered = render(current)
    if "--write" in sys.argv:
        PAGE.write_text(rendered)
    else:
        sys.stdout.write(rendered)
