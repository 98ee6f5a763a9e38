# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The subjectAltName entries of a host's replication server certificate.

The postgresql role's tls.yml issues one server certificate per host. A standby connecting with
``sslmode=verify-full`` compares the name or address in its ``primary_conninfo`` with the
certificate's SAN entries, so the certificate names every way the host is reached: its
inventory name, ``ansible_host``, ``standby_address``, the addresses of its default routes and
``postgresql_tls_extra_names``. An address becomes an ``IP:`` entry (libpq compares an address
in ``host=`` only with those), anything else a ``DNS:`` entry.

``tls_san_missing`` (documented in tls_san_missing.py) reads the SAN of an existing certificate
from ``openssl x509 -noout -text`` and says which wanted entries it lacks: such a certificate is
issued again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: tls_names
short_description: The SAN entries of a host's server certificate
version_added: 0.4.0
description:
  - Takes the names and addresses a host is reached by and returns the subjectAltName entries
    of its server certificate, C(IP:<address>) for an IPv4 or IPv6 address and
    C(DNS:<name>) for anything else, in the order given, each once.
  - Empty and null items are skipped, blanks around an item dropped. A string instead of a
    list holds entries separated by commas or blanks
    (C(-e postgresql_tls_extra_names=a.example,10.0.0.9) arrives as a string).
  - Names are lowercased (DNS names compare case-insensitively) and lose a trailing dot; an
    address is written in its compressed form (C(2001:db8::1)), without a zone (C(%eth0)).
  - An item that is neither an address nor a DNS name (labels of letters, digits, C(-) and
    C(_), at most 63 characters each and 253 in all, the first label may be C(*)) is not used
    and is listed in RV(_value.invalid); a play must fail on it (preflight does).
positional: _input
options:
  _input:
    description:
      - The host's names and addresses, in order (inventory_hostname, ansible_host,
        standby_address, the default IPv4 and IPv6 addresses, postgresql_tls_extra_names).
    type: list
    elements: raw
    required: true
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: SAN of this host's certificate
  ansible.builtin.set_fact:
    __san: >-
      {{ ([inventory_hostname, ansible_host | default(''), standby_address | default(''),
          ansible_facts.default_ipv4.address | default('')] + postgresql_tls_extra_names)
         | pgrepl.streaming.tls_names }}

# ['DB1', '10.0.0.11', '', 'db1.example.com.', '10.0.0.11']
#   -> {'san': ['DNS:db1', 'IP:10.0.0.11', 'DNS:db1.example.com'], 'invalid': []}
# ['db1', 'bad name!'] -> {'san': ['DNS:db1'], 'invalid': ['bad name!']}
"""

RETURN = r"""
_value:
  description: The entries and the items that could not be used.
  type: dict
  contains:
    san:
      description: The SAN entries, C(DNS:...) or C(IP:...), each once, in the order given.
      type: list
      elements: str
      sample: ['DNS:db1', 'IP:10.0.0.11']
    invalid:
      description: Items that are neither an address nor a DNS name, as given.
      type: list
      elements: str
      sample: []
"""

import ipaddress  # noqa: E402
import re  # noqa: E402
from typing import Any, Dict, List, Optional  # noqa: E402

_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_DNS_NAME = re.compile(r"^(\*\.)?%s(\.%s)*$" % (_LABEL, _LABEL))
_SEPARATORS = re.compile(r"[,\s]+")
# How `openssl x509 -noout -text` prints the entries (OpenSSL 1.1, 3.x and LibreSSL).
_SAN_HEADING = "X509v3 Subject Alternative Name:"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _items(values: Any) -> List[str]:
    """Every non-empty item, without surrounding blanks; a string alone is split at commas
    and blanks."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)):
        return [part for part in _SEPARATORS.split(_text(values)) if part]
    found = (_text(value).strip() for value in values if value is not None)
    return [item for item in found if item]


def address(text: str) -> Optional[str]:
    """The address in compressed form, or None when text is no IPv4/IPv6 address."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).compressed
    except ValueError:
        return None


def entry(text: str) -> Optional[str]:
    """The SAN entry of one name or address, or None when it is neither."""
    ip = address(text)
    if ip is not None:
        return "IP:" + ip
    name = text.lower().rstrip(".")
    if len(name) <= 253 and _DNS_NAME.match(name):
        return "DNS:" + name
    return None


def tls_names(values: Any) -> Dict[str, List[str]]:
    san: List[str] = []
    invalid: List[str] = []
    for item in _items(values):
        found = entry(item)
        if found is None:
            if item not in invalid:
                invalid.append(item)
        elif found not in san:
            san.append(found)
    return {"san": san, "invalid": invalid}


def san_of(text: Any) -> List[str]:
    """The SAN entries of a certificate, from `openssl x509 -noout -text` (a string, or its
    lines), as tls_names writes them (other kinds, such as email:, are left out)."""
    lines = text if isinstance(text, list) else str(text or "").splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith(_SAN_HEADING):
            values = lines[number + 1] if number + 1 < len(lines) else ""
            found = []
            for part in values.split(","):
                kind, _colon, value = part.strip().partition(":")
                if kind == "DNS" and value:
                    found.append("DNS:" + value.lower().rstrip("."))
                elif kind in ("IP Address", "IP") and value:
                    ip = address(value.strip())
                    if ip is not None:
                        found.append("IP:" + ip)
            return found
    return []


def tls_san_missing(wanted: Any, text: Any) -> List[str]:
    if isinstance(wanted, dict):
        wanted = wanted.get("san", [])
    have = set(san_of(text))
    return [item for item in wanted or [] if item not in have]


class FilterModule(object):
    def filters(self):
        # tls_san_missing is exported by tls_san_missing.py, for its own documentation.
        return {"tls_names": tls_names}
