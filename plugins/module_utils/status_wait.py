# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The waiting part of ``pg_replication_status``: option checks, the condition, the poll.

Pure Python (the clock, sleep and status reader are passed in), so it is unit-tested
without a server.
"""

from __future__ import absolute_import, division, print_function

import time

# PostgreSQL truncates application_name to NAMEDATALEN - 1 bytes: a longer name never matches.
MAX_NAME_BYTES = 63


class WaitSpec(object):
    """What to wait for; built by ``parse_wait_spec`` from the module parameters."""

    def __init__(self, count=None, names=None, streaming=False, max_lag_bytes=None,
                 timeout=60, poll_interval=1.0):
        self.count = count
        self.names = names
        self.streaming = streaming
        self.max_lag_bytes = max_lag_bytes
        self.timeout = timeout
        self.poll_interval = poll_interval

    @property
    def active(self):
        return (self.count is not None or self.names is not None or self.streaming
                or self.max_lag_bytes is not None)

    @property
    def targets_primary(self):
        return self.count is not None or self.names is not None


def _parse_standbys(value):
    """``wait_for_standbys`` -> (count, names); raises ValueError with a clear message."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        raise ValueError("wait_for_standbys must be a count or a list of application names, "
                         "not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("wait_for_standbys must not be negative, got %d" % value)
        return value, None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text), None
        value = [part.strip() for part in text.split(",")] if text else []
    if not isinstance(value, (list, tuple)):
        raise ValueError("wait_for_standbys must be a count or a list of application names, "
                         "got %s" % type(value).__name__)
    names = []
    for name in value:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("wait_for_standbys names must be non-empty strings, got %r"
                             % (name,))
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise ValueError("wait_for_standbys name %r is longer than %d bytes: PostgreSQL "
                             "truncates application_name, so it can never match"
                             % (name, MAX_NAME_BYTES))
        names.append(name)
    return None, names


def parse_wait_spec(params):
    """Check the wait options before any connection; raises ValueError."""
    count, names = _parse_standbys(params.get("wait_for_standbys"))
    streaming = bool(params.get("wait_for_streaming"))
    if streaming and (count is not None or names is not None):
        raise ValueError("wait_for_standbys waits on a primary and wait_for_streaming on a "
                         "standby: use one of them, not both")
    max_lag = params.get("max_lag_bytes")
    if max_lag is not None and max_lag < 0:
        raise ValueError("max_lag_bytes must not be negative, got %d" % max_lag)
    timeout = params.get("timeout", 60)
    if timeout < 0:
        raise ValueError("timeout must not be negative, got %s" % timeout)
    interval = params.get("poll_interval", 1.0)
    if interval <= 0:
        raise ValueError("poll_interval must be greater than 0, got %s" % interval)
    return WaitSpec(count, names, streaming, max_lag, timeout, interval)


def role_conflict(spec, role):
    """A message when the wait asked for cannot apply to a server of this role, else None."""
    if role == "standby" and spec.targets_primary:
        return ("wait_for_standbys applies to a primary, but this server is a standby "
                "(in recovery); use wait_for_streaming to wait for its own WAL receiver")
    if role == "primary" and spec.streaming:
        return ("wait_for_streaming applies to a standby, but this server is a primary "
                "(not in recovery); use wait_for_standbys to wait for its standbys")
    return None


def _streaming(standbys):
    return [s for s in standbys if s.get("state") == "streaming"]


def _name_reason(name, standbys):
    rows = [s for s in standbys if s.get("application_name") == name]
    if not rows:
        return "standby %r streaming (not connected)" % name
    if not _streaming(rows):
        return "standby %r streaming (state %s)" % (
            name, "/".join(str(s.get("state")) for s in rows))
    return None


def _lag_reason(label, lag, limit):
    if lag is None:
        return "%s replay lag <= %d bytes (replay position unknown)" % (label, limit)
    if lag > limit:
        return "%s replay lag <= %d bytes (is %d)" % (label, limit, lag)
    return None


def _primary_reasons(spec, status):
    standbys = status.get("standbys") or []
    reasons = []
    if spec.count is not None:
        found = _streaming(standbys)
        if len(found) < spec.count:
            reasons.append("at least %d streaming standby(s) (found %d)"
                           % (spec.count, len(found)))
    for name in spec.names or []:
        reason = _name_reason(name, standbys)
        if reason:
            reasons.append(reason)
    if spec.max_lag_bytes is not None:
        # Named standbys when given, else every WAL sender but base backups.
        if spec.names is not None:
            checked = [s for s in standbys if s.get("application_name") in spec.names]
        else:
            checked = [s for s in standbys if s.get("state") != "backup"]
        for row in checked:
            reason = _lag_reason("standby %r" % row.get("application_name"),
                                 row.get("replay_lag_bytes"), spec.max_lag_bytes)
            if reason:
                reasons.append(reason)
    return reasons


def _standby_reasons(spec, status):
    reasons = []
    if spec.streaming:
        receiver = status.get("wal_receiver")
        if not receiver:
            reasons.append("WAL receiver streaming (no WAL receiver running)")
        elif receiver.get("status") != "streaming":
            reasons.append("WAL receiver streaming (status %s)" % receiver.get("status"))
    if spec.max_lag_bytes is not None:
        reason = _lag_reason("received-to-replayed", status.get("replay_lag_bytes"),
                             spec.max_lag_bytes)
        if reason:
            reasons.append(reason)
    return reasons


def unmet(spec, status):
    """What the wait still needs, as readable phrases; empty when the condition holds."""
    conflict = role_conflict(spec, status.get("role"))
    if conflict:  # e.g. promoted or demoted while waiting
        return [conflict]
    if status.get("role") == "primary":
        return _primary_reasons(spec, status)
    return _standby_reasons(spec, status)


def summary(status):
    """A one-line picture of a status result, for failure messages."""
    if status.get("role") == "primary":
        parts = ["%s (%s, replay lag %s bytes)" % (
            s.get("application_name") or "?", s.get("state"), s.get("replay_lag_bytes"))
            for s in status.get("standbys") or []]
        return "primary at %s; standbys: %s" % (
            status.get("current_lsn"), ", ".join(parts) if parts else "none connected")
    receiver = status.get("wal_receiver")
    if receiver:
        source = "WAL receiver %s from %s:%s" % (
            receiver.get("status"), receiver.get("sender_host"), receiver.get("sender_port"))
    else:
        source = "no WAL receiver"
    return "standby replayed to %s (received %s); %s" % (
        status.get("replay_lsn"), status.get("receive_lsn"), source)


class WaitTimeout(Exception):
    """The condition did not hold in time; carries the last status read."""

    def __init__(self, message, status, polls):
        super(WaitTimeout, self).__init__(message)
        self.status = status
        self.polls = polls


def wait_for(spec, read, status=None, clock=time.monotonic, sleep=time.sleep):
    """Read until ``unmet`` is empty; return (status, reads) or raise WaitTimeout.

    ``status`` is a first reading already taken (else one is taken at once); a timeout of
    0 therefore checks exactly once. ``reads`` counts that first reading too.
    """
    deadline = clock() + spec.timeout
    polls = 1
    if status is None:
        status = read()
    while True:
        reasons = unmet(spec, status)
        if not reasons:
            return status, polls
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(
                "timed out after %ss (%d checks) waiting for: %s. Last status: %s"
                % (spec.timeout, polls, "; ".join(reasons), summary(status)), status, polls)
        sleep(min(spec.poll_interval, remaining))
        status = read()
        polls += 1
