# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""WAL location (LSN) helpers shared by the modules; pure Python, unit-tested."""

from __future__ import absolute_import, division, print_function


import re

_LSN_RE = re.compile(r"\A([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})\Z")


def lsn_to_int(lsn):
    """'16/B374D848' -> byte position; None stays None. Raises ValueError on garbage."""
    if lsn is None:
        return None
    match = _LSN_RE.match(str(lsn))
    if not match:
        raise ValueError("not a WAL location (LSN): %r" % (lsn,))
    return (int(match.group(1), 16) << 32) + int(match.group(2), 16)


def lsn_diff(newer, older):
    """Bytes from ``older`` to ``newer`` (never negative); None when either is unknown."""
    if newer is None or older is None:
        return None
    return max(0, lsn_to_int(newer) - lsn_to_int(older))


def interval_seconds(value):
    """A timedelta (as psycopg2 returns intervals) as float seconds; None stays None."""
    if value is None:
        return None
    return round(value.total_seconds(), 3)
