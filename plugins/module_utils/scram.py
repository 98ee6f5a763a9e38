# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pgrepl.streaming maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCRAM-SHA-256 password verifiers in PostgreSQL's format, computed on the client.

What psql's ``\\password`` and libpq's ``PQencryptPasswordConn()`` do, in pure Python
(RFC 5802 and RFC 7677), so that a module can send ``ALTER ROLE ... PASSWORD '<verifier>'``
and the plain password never reaches the server or its log::

    SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>      (base64 fields)

    SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
    StoredKey      = SHA-256(HMAC(SaltedPassword, "Client Key"))
    ServerKey      = HMAC(SaltedPassword, "Server Key")

The password is first prepared the way libpq prepares it (``pg_saslprep()``), so the
verifier is the one psql would make and a libpq client can log in with the password:

- an ASCII password, or one that is not valid UTF-8, is hashed as it is (its bytes);
- any other password goes through SASLprep (RFC 4013: non-ASCII spaces become a space, a few
  invisible characters are dropped, then NFKC normalisation), for example U+2168 (ROMAN
  NUMERAL NINE) is hashed as ``IX``;
- when SASLprep refuses the password (prohibited or unassigned characters, bad
  bidirectional text, nothing left), libpq falls back to the raw UTF-8 bytes, and so does
  ``saslprep()`` here. Like pg_saslprep(), these checks look at the text before NFKC.

For an ASCII password, SASLprep and the raw bytes are the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # noqa: UP001 - ansible-test boilerplate

import base64
import binascii
import hashlib
import hmac
import os
import re
import stringprep
import unicodedata

SCHEME = "SCRAM-SHA-256"
# PostgreSQL's defaults (SCRAM_SHA_256_DEFAULT_ITERATIONS, SCRAM_DEFAULT_SALT_LEN).
DEFAULT_ITERATIONS = 4096
SALT_LENGTH = 16
KEY_LENGTH = 32  # SHA-256 digest size

_B64 = r"[A-Za-z0-9+/]+={0,2}"
_VERIFIER_RE = re.compile(
    r"SCRAM-SHA-256\$([0-9]{1,10}):(%s)\$(%s):(%s)" % (_B64, _B64, _B64))

# Tables of RFC 3454 that SASLprep prohibits in its output (RFC 4013, section 2.3), and
# A.1, unassigned code points, which stored strings such as passwords may not contain.
_PROHIBITED = (
    stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22,
    stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
    stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
    stringprep.in_table_c9, stringprep.in_table_a1,
)


def _to_bytes(password):
    raw = password if isinstance(password, bytes) else password.encode("utf-8")
    if b"\0" in raw:
        # libpq and the server see C strings: they would cut the password there.
        raise ValueError("a password cannot contain a NUL character")
    return raw


def _saslprep_text(text):
    """SASLprep of ``text`` (a str) as ``pg_saslprep()`` does it, or None when it refuses.

    Like pg_saslprep(), the prohibition and bidirectional checks look at the mapped text
    before normalisation, and an empty result is refused.
    """
    # 1. Map: non-ASCII spaces (C.1.2) to a space, "commonly mapped to nothing" (B.1) to
    #    nothing. C.1.2 is tested first, which decides U+200B (in both tables).
    mapped = []
    for char in text:
        if stringprep.in_table_c12(char):
            mapped.append(" ")
        elif not stringprep.in_table_b1(char):
            mapped.append(char)
    if not mapped:
        return None
    # 3. Prohibit.
    if any(test(char) for char in mapped for test in _PROHIBITED):
        return None
    # 4. Bidirectional text: with any RandALCat character, no LCat character, and the
    #    first and the last character must be RandALCat.
    if any(stringprep.in_table_d1(char) for char in mapped):
        if any(stringprep.in_table_d2(char) for char in mapped):
            return None
        if not (stringprep.in_table_d1(mapped[0]) and stringprep.in_table_d1(mapped[-1])):
            return None
    # 2. Normalise with NFKC: this is what gets hashed.
    return unicodedata.normalize("NFKC", "".join(mapped))


def saslprep(password):
    """The bytes libpq hashes for ``password`` (str or bytes), as ``pg_saslprep()`` decides.

    ASCII and invalid UTF-8 stay as they are; otherwise the SASLprep result, or the raw
    UTF-8 bytes when SASLprep refuses the password (libpq's fallback).
    """
    raw = _to_bytes(password)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    if all(ord(char) < 0x80 for char in text):
        return raw
    prepared = _saslprep_text(text)
    if prepared is None:
        return raw
    return prepared.encode("utf-8")


def _keys(password, salt, iterations):
    """(StoredKey, ServerKey) for ``password``."""
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def make_verifier(password, salt=None, iterations=DEFAULT_ITERATIONS):
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password`` (str or bytes).

    ``salt`` (bytes) defaults to 16 random bytes from ``os.urandom``; pass one only to
    reproduce a known verifier.
    """
    if salt is None:
        salt = os.urandom(SALT_LENGTH)
    if not isinstance(salt, bytes) or not salt:
        raise ValueError("the salt must be non-empty bytes")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError("iterations must be a positive integer, not %r" % (iterations,))
    stored_key, server_key = _keys(password, salt, iterations)
    return "%s$%d:%s$%s:%s" % (SCHEME, iterations, _b64(salt), _b64(stored_key),
                               _b64(server_key))


def _b64decode(text):
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_verifier(text):
    """The parts of a SCRAM-SHA-256 verifier, or None for anything else.

    Anything else includes None (no password), an md5 hash and a plain text password.
    Returns a dict with ``iterations`` (int) and ``salt``, ``stored_key``, ``server_key``
    (bytes).
    """
    if not isinstance(text, str):
        return None
    match = _VERIFIER_RE.fullmatch(text)
    if not match:
        return None
    iterations = int(match.group(1))
    salt, stored_key, server_key = (_b64decode(match.group(i)) for i in (2, 3, 4))
    if iterations < 1 or not salt or stored_key is None or server_key is None:
        return None
    if len(stored_key) != KEY_LENGTH or len(server_key) != KEY_LENGTH:
        return None
    return {"iterations": iterations, "salt": salt, "stored_key": stored_key,
            "server_key": server_key}


def verifier_matches(text, password):
    """Whether the verifier ``text`` (e.g. pg_authid.rolpassword) is one of ``password``.

    Recomputes the keys with the verifier's own salt and iteration count and compares them
    in constant time. False for anything that is not a SCRAM-SHA-256 verifier.
    """
    parts = parse_verifier(text)
    if parts is None:
        return False
    stored_key, server_key = _keys(password, parts["salt"], parts["iterations"])
    # Both compared, always, so the time taken does not tell which one differed.
    stored_ok = hmac.compare_digest(stored_key, parts["stored_key"])
    server_ok = hmac.compare_digest(server_key, parts["server_key"])
    return stored_ok and server_ok
