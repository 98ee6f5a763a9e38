"""SCRAM-SHA-256 verifiers: known answers from a real server and from the host's libpq."""

import base64
import ctypes
import ctypes.util
import hmac

import pytest

from ansible_collections.pgrepl.streaming.plugins.module_utils import scram

# Known answers, read once from pg_authid.rolpassword of a real PostgreSQL 15.18 server
# (UTF8) after SET password_encryption = 'scram-sha-256'; CREATE ROLE r PASSWORD '<pw>'.
# The server made the salt; it applies the same SASLprep as libpq, so the non-ASCII
# entries pin that part too (U+2168 ROMAN NUMERAL NINE + U+00AD SOFT HYPHEN -> "IX").
SERVER_VECTORS = [
    ("x", "SCRAM-SHA-256$4096:WtfsaOL+3kmA/evXC2AxqA==$5+QZMpyi0lIEIxfYixGhTRay/McBPt4gKOwZ7"
          "XXBXdk=:ihEcOK/h3FzduIiej5pRrPsGtuzjjtDMnRZYSYxWkxA="),
    ("it-Secret1", "SCRAM-SHA-256$4096:r4R2C3+anM9m4Hg0rD0NBA==$Q6EFspvIBNMWjD34s/xfOBv7Ppwc"
                   "OZF+5P0UIqWCwoo=:D+yQD+ze2jkTuD130GaCZLM6KKnwjALo51Yhd7zMGMQ="),
    ("p\u00e4ssw\u00f6rd", "SCRAM-SHA-256$4096:UHJmCkdIyXIiBMBSLLvO4g==$bae0sqmtBvNpSZ6O+kP7R"
                           "pr5/UJ9TtfJ+mVIcqAXDB0=:c34pY7472uwqPnvHZN673bHpJFdTMB6pQoSI/SKyk64="),
    ("\u2168\u00ad", "SCRAM-SHA-256$4096:MG0t8sqg+QgdgBvf5wHLKA==$jel0dmKeV59+gU83IGV31QYP8d+Z"
                     "Tf5z4cZ+MWsmvAE=:aoTcft3ywCEdPM09+cD5S8ROG3i7lbH4m6pmF+LN/Vs="),
]

# Passwords for the libpq comparison: ASCII (control characters too), SASLprep mappings and
# normalisation, and every way SASLprep can refuse (libpq then hashes the raw bytes).
LIBPQ_PASSWORDS = [
    "x", "it-Secret1", "with space", "tab\there", "\x01\x7f", "'quote\"\\back",
    "p\u00e4ssw\u00f6rd",          # precomposed
    "pa\u0308ssw\u00f6rd",         # decomposed: NFKC composes it
    "I\u00adX", "a\u200bb",        # soft hyphen dropped; U+200B is a space (C.1.2 first)
    "a\u3000b", "a\u00a0b",        # non-ASCII spaces become a space
    "\u2168", "\ufb01", "\uff76",  # compatibility forms (IX, fi, half-width katakana)
    "\u0627\u0644\u0639",          # right-to-left only: allowed
    "a\u0627", "\u0627a\u0627",    # mixed directions: refused
    "\ue000", "a\u2066b",          # private use, bidi control: refused
    "\u0340", "\U0001F100",        # prohibited / unassigned before NFKC: refused
    "\ufe0f",                      # nothing left after mapping: refused
    "\U0001F600", "\U00020000",    # unassigned in Unicode 3.2 / assigned CJK
    b"\xff\xfe", b"a\xc3",         # not UTF-8
]


def split(verifier):
    head = verifier.split("$")[1]
    iterations, salt = head.split(":")
    return int(iterations), base64.b64decode(salt)


# ------------------------------------------------------------------ known answers


@pytest.mark.parametrize(("password", "verifier"), SERVER_VECTORS)
def test_fixed_salt_reproduces_the_server(password, verifier):
    iterations, salt = split(verifier)
    assert scram.make_verifier(password, salt=salt, iterations=iterations) == verifier
    assert scram.verifier_matches(verifier, password)
    assert not scram.verifier_matches(verifier, password + "!")


class Libpq:
    """PQencryptPasswordConn() of the host's libpq (what psql's \\password calls).

    It wants a PGconn but does not talk to the server when the algorithm is given, so a
    connection attempt that never succeeds is enough.
    """

    def __init__(self):
        path = ctypes.util.find_library("pq")
        if not path:
            pytest.skip("no libpq on this host")
        lib = ctypes.CDLL(path)
        lib.PQconnectStart.restype = ctypes.c_void_p
        lib.PQconnectStart.argtypes = [ctypes.c_char_p]
        lib.PQencryptPasswordConn.restype = ctypes.c_void_p
        lib.PQencryptPasswordConn.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                              ctypes.c_char_p, ctypes.c_char_p]
        lib.PQfreemem.argtypes = [ctypes.c_void_p]
        lib.PQfinish.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.conn = lib.PQconnectStart(b"host=/nonexistent-pgrepl-test port=1")

    def encrypt(self, password):
        raw = password if isinstance(password, bytes) else password.encode("utf-8")
        result = self.lib.PQencryptPasswordConn(self.conn, raw, b"replicator",
                                                b"scram-sha-256")
        assert result, "PQencryptPasswordConn failed"
        try:
            return ctypes.string_at(result).decode("ascii")
        finally:
            self.lib.PQfreemem(result)

    def close(self):
        self.lib.PQfinish(self.conn)


@pytest.fixture(scope="module")
def libpq():
    lib = Libpq()
    yield lib
    lib.close()


@pytest.mark.parametrize("password", LIBPQ_PASSWORDS, ids=ascii)
def test_verifiers_of_libpq_match(libpq, password):
    verifier = libpq.encrypt(password)
    assert scram.parse_verifier(verifier) is not None
    assert scram.verifier_matches(verifier, password)
    assert not scram.verifier_matches(verifier, "other")
    # Same salt and iterations: byte for byte the verifier libpq made.
    iterations, salt = split(verifier)
    assert scram.make_verifier(password, salt=salt, iterations=iterations) == verifier


def test_libpq_checks_our_verifier_format(libpq):
    # Same layout as libpq's: scheme, 4096 iterations, 16-byte salt, two 32-byte keys.
    ours, theirs = scram.make_verifier("pw"), libpq.encrypt("pw")
    assert ours.split(":")[0] == theirs.split(":")[0] == "SCRAM-SHA-256$4096"
    assert [len(part) for part in ours.replace("$", ":").split(":")] == \
        [len(part) for part in theirs.replace("$", ":").split(":")]


# ------------------------------------------------------------------ SASLprep


@pytest.mark.parametrize(("password", "prepared"), [
    ("it-Secret1", b"it-Secret1"),
    ("tab\there", b"tab\there"),             # ASCII is never touched, controls included
    ("I\u00adX", b"IX"),
    ("\u2168", b"IX"),
    ("a\u3000b", b"a b"),
    ("a\u200bb", b"a b"),
    ("pa\u0308ss", "p\u00e4ss".encode("utf-8")),
    ("\u0627a\u0627", "\u0627a\u0627".encode("utf-8")),   # refused: raw bytes
    ("\ufe0f", b"\xef\xb8\x8f"),                          # empty after mapping: raw
    ("\u0340", b"\xcd\x80"),                              # prohibited before NFKC: raw
    (b"\xff", b"\xff"),
])
def test_saslprep(password, prepared):
    assert scram.saslprep(password) == prepared


def test_str_and_utf8_bytes_agree():
    salt = b"0123456789abcdef"
    assert scram.make_verifier("p\u00e4ss", salt) == \
        scram.make_verifier("p\u00e4ss".encode("utf-8"), salt)


def test_nul_is_refused():
    with pytest.raises(ValueError, match="NUL"):
        scram.make_verifier("a\0b")


# ------------------------------------------------------------------ make_verifier


def test_defaults_random_salt():
    first, second = scram.make_verifier("pw"), scram.make_verifier("pw")
    assert first != second
    for verifier in (first, second):
        parts = scram.parse_verifier(verifier)
        assert parts["iterations"] == 4096 and len(parts["salt"]) == 16
        assert scram.verifier_matches(verifier, "pw")


def test_iterations_are_part_of_the_verifier():
    verifier = scram.make_verifier("pw", salt=b"salt", iterations=10000)
    assert verifier.startswith("SCRAM-SHA-256$10000:c2FsdA==$")
    assert scram.verifier_matches(verifier, "pw")
    assert verifier != scram.make_verifier("pw", salt=b"salt", iterations=4096)


@pytest.mark.parametrize(("salt", "iterations"), [
    (b"", 4096), ("text", 4096), (b"s", 0), (b"s", -1), (b"s", True), (b"s", "4096")])
def test_bad_salt_or_iterations(salt, iterations):
    with pytest.raises(ValueError):
        scram.make_verifier("pw", salt=salt, iterations=iterations)


# ------------------------------------------------------------------ parse_verifier


def test_parse_verifier():
    verifier = SERVER_VECTORS[0][1]
    parts = scram.parse_verifier(verifier)
    assert parts["iterations"] == 4096
    assert parts["salt"] == base64.b64decode("WtfsaOL+3kmA/evXC2AxqA==")
    assert len(parts["stored_key"]) == len(parts["server_key"]) == 32


KEY = base64.b64encode(b"k" * 32).decode()
SHORT = base64.b64encode(b"k" * 31).decode()


@pytest.mark.parametrize("text", [
    None, "", "x", 42, b"SCRAM-SHA-256$4096:c2FsdA==$%s:%s" % (KEY.encode(), KEY.encode()),
    "md5" + "0" * 32,
    "SCRAM-SHA-256$4096:c2FsdA==$%s:%s\n" % (KEY, KEY),     # trailing newline
    "SCRAM-SHA-256$0:c2FsdA==$%s:%s" % (KEY, KEY),          # no iterations
    "SCRAM-SHA-256$:c2FsdA==$%s:%s" % (KEY, KEY),
    "SCRAM-SHA-256$4096:$%s:%s" % (KEY, KEY),               # no salt
    "SCRAM-SHA-256$4096:c2Fsd===$%s:%s" % (KEY, KEY),       # bad base64
    "SCRAM-SHA-256$4096:c2FsdA==$%s:%s" % (SHORT, KEY),     # key too short
    "SCRAM-SHA-256$4096:c2FsdA==$%s" % KEY,
    "SCRAM-SHA-1$4096:c2FsdA==$%s:%s" % (KEY, KEY),
])
def test_parse_verifier_refuses_everything_else(text):
    assert scram.parse_verifier(text) is None
    assert scram.verifier_matches(text, "pw") is False


def test_matching_compares_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(scram.hmac, "compare_digest", spy)
    verifier = scram.make_verifier("pw")
    assert not scram.verifier_matches(verifier, "other")
    assert scram.verifier_matches(verifier, "pw")
    assert len(calls) == 4  # both keys compared, every time
