"""SAN entries of a host's server certificate (plugins/filter/tls_names.py, tls_san_missing.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.pgrepl.streaming.plugins.filter import tls_names as module
from ansible_collections.pgrepl.streaming.plugins.filter import tls_san_missing
from ansible_collections.pgrepl.streaming.plugins.filter.tls_names import (
    san_of,
    tls_names,
)

# `openssl x509 -noout -text` of a certificate made with
# -addext subjectAltName=DNS:db1,DNS:Db1.Example.com,IP:10.0.0.11,IP:2001:db8::1,email:a@b.c
OPENSSL_TEXT = "\n".join([
    "Certificate:",
    "    Data:",
    "        Version: 3 (0x2)",
    "        X509v3 extensions:",
    "            X509v3 Subject Key Identifier:",
    "                3F:2A:...",
    "            X509v3 Subject Alternative Name: ",  # openssl prints the blank
    "                DNS:db1, DNS:Db1.Example.com, IP Address:10.0.0.11, "
    "IP Address:2001:DB8:0:0:0:0:0:1, email:a@b.c",
    "    Signature Algorithm: ecdsa-with-SHA256",
    "",
])


def test_the_filters_are_registered() -> None:
    assert module.FilterModule().filters() == {"tls_names": tls_names}
    assert tls_san_missing.FilterModule().filters() == {
        "tls_san_missing": module.tls_san_missing}


def test_names_and_addresses_of_a_host_in_order_each_once() -> None:
    found = tls_names(["db1", "10.0.0.11", None, "", "10.0.0.11", "2001:db8::1", "DB1"])
    assert found == {"san": ["DNS:db1", "IP:10.0.0.11", "IP:2001:db8::1"], "invalid": []}


@pytest.mark.parametrize(
    ("given", "wanted"),
    [("DB1.Example.COM", "DNS:db1.example.com"),
     ("db1.example.com.", "DNS:db1.example.com"),
     ("db_1", "DNS:db_1"),
     ("*.db.example.com", "DNS:*.db.example.com"),
     ("2001:0DB8:0000::0001", "IP:2001:db8::1"),
     ("fe80::1%eth0", "IP:fe80::1"),
     ("::ffff:10.0.0.1", "IP:::ffff:a00:1"),
     ("127.0.0.1", "IP:127.0.0.1")],
)
def test_one_entry(given: str, wanted: str) -> None:
    assert tls_names([given]) == {"san": [wanted], "invalid": []}


@pytest.mark.parametrize(
    "given",
    ["-db1", "db1-", "db..example", "a" * 64, ".".join(["a" * 60] * 5), "db1:5432",
     "db1/24", "10.0.0.256/32", "*", "db.*.example", "ex$ample", "é.example", "a=b"],
)
def test_what_is_neither_a_name_nor_an_address_is_refused(given: str) -> None:
    assert tls_names(["db1", given]) == {"san": ["DNS:db1"], "invalid": [given]}


def test_a_string_holds_several_entries() -> None:
    """-e postgresql_tls_extra_names=... arrives as one string."""
    assert tls_names("a.example, 10.0.0.9 b.example")["san"] == [
        "DNS:a.example", "IP:10.0.0.9", "DNS:b.example"]


def test_an_item_of_a_list_is_one_entry() -> None:
    found = tls_names([" db1 ", "not ok", "a,b"])
    assert found == {"san": ["DNS:db1"], "invalid": ["not ok", "a,b"]}


def test_a_value_that_is_no_string_counts_as_its_text() -> None:
    assert tls_names([None, b"db1", 7])["san"] == ["DNS:db1", "DNS:7"]


def test_nothing_gives_nothing() -> None:
    assert tls_names(None) == {"san": [], "invalid": []}
    assert tls_names([]) == {"san": [], "invalid": []}


def test_the_san_of_openssl_text() -> None:
    assert san_of(OPENSSL_TEXT) == ["DNS:db1", "DNS:db1.example.com", "IP:10.0.0.11",
                                    "IP:2001:db8::1"]


def test_the_san_of_openssl_lines_after_other_output() -> None:
    lines = ["state=ok", *OPENSSL_TEXT.splitlines()]
    assert san_of(lines) == san_of("\n".join(lines)) == san_of(OPENSSL_TEXT)


def test_a_certificate_without_san_has_none() -> None:
    assert san_of("Certificate:\n    Data:\n") == []
    assert san_of("") == []
    assert san_of("            X509v3 Subject Alternative Name: ") == []


def test_missing_entries_compare_by_value() -> None:
    wanted = tls_names(["DB1", "2001:db8:0::1", "10.0.0.11"])
    assert module.tls_san_missing(wanted, OPENSSL_TEXT) == []
    assert module.tls_san_missing(wanted["san"], OPENSSL_TEXT) == []


def test_missing_entries_in_the_order_wanted() -> None:
    wanted = ["IP:10.0.0.12", "DNS:db1", "DNS:db2", "IP:10.0.0.11"]
    assert module.tls_san_missing(wanted, OPENSSL_TEXT) == ["IP:10.0.0.12", "DNS:db2"]


def test_entries_beyond_those_wanted_do_not_count() -> None:
    assert module.tls_san_missing(["DNS:db1"], OPENSSL_TEXT) == []


def test_without_a_san_every_entry_is_missing() -> None:
    assert module.tls_san_missing(["DNS:db1"], "Certificate:\n") == ["DNS:db1"]
    assert module.tls_san_missing([], "") == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_what_openssl_really_prints(tmp_path: Path) -> None:
    wanted = tls_names(["db1", "Db1.Example.com.", "10.0.0.11", "2001:db8::1", "::1"])["san"]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         str(tmp_path / "key"), "-subj", "/CN=db1", "-days", "1",
         "-addext", "subjectAltName=" + ",".join(wanted), "-out", str(tmp_path / "crt")],
        check=True, capture_output=True)
    text = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "crt"), "-noout", "-text"],
                          check=True, capture_output=True, text=True).stdout
    assert san_of(text) == wanted
    assert module.tls_san_missing(wanted + ["DNS:db2"], text) == ["DNS:db2"]
