# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAN entries an existing server certificate lacks.

The code is in tls_names.py; this file gives the filter its own documentation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

DOCUMENTATION = r"""
name: tls_san_missing
short_description: The wanted SAN entries a certificate lacks
version_added: 0.4.0
description:
  - Takes the SAN entries a host's certificate must hold (the C(san) list of
    C(pgrepl.streaming.tls_names), or its whole result) and the output of
    C(openssl x509 -noout -text) for the certificate, and returns the wanted entries the
    certificate does not hold, in the order wanted. The postgresql role issues the
    certificate again when the list is not empty.
  - Entries the certificate holds beyond those wanted do not count, so a certificate issued
    while more was known about the host (facts gathered) is kept.
  - Names compare case-insensitively, addresses by value (OpenSSL prints C(IP Address:) and
    IPv6 addresses uncompressed).
positional: _input, text
options:
  _input:
    description: The wanted entries, C(DNS:name) or C(IP:address).
    type: raw
    required: true
  text:
    description:
      - The output of C(openssl x509 -noout -text), as one string (other lines before it do
        no harm) or as its lines. Without a SAN extension in it, every wanted entry is missing.
    type: raw
    required: true
author:
  - pgrepl.streaming maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Entries the certificate lacks
  ansible.builtin.set_fact:
    __missing: >-
      {{ ['DNS:db1', 'IP:10.0.0.11'] | pgrepl.streaming.tls_san_missing(x509_text.stdout) }}
  # a certificate with "DNS:db1, IP Address:10.0.0.12" -> ['IP:10.0.0.11']
"""

RETURN = r"""
_value:
  description: The wanted entries that are missing; empty when the certificate covers them all.
  type: list
  elements: str
"""

from ansible_collections.pgrepl.streaming.plugins.filter.tls_names import (  # noqa: E402
    tls_san_missing,
)


class FilterModule(object):
    def filters(self):
        return {"tls_san_missing": tls_san_missing}
