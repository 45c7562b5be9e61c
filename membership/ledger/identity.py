"""One reader, one member: a keyed fingerprint of a normalised email. No Flask here.

Sources link their accounts to a person through this fingerprint, taken from what the provider
sends; the email itself is never stored. The key (IDENTITY_KEY) keeps the fingerprints from
being reversed by hashing a list of known addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "id1:"  # the scheme's version, so a later scheme's fingerprints never collide


# One search instead of a loop over characters: it runs for every imported row.
WHITESPACE = re.compile(r"\s")


def normalise(email: object) -> str | None:
    """The address as compared: trimmed and lower-cased; None if it is not an address."""
    if not isinstance(email, str):
        return None
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or WHITESPACE.search(address):
        return None
    return address


def fingerprint(email: object, key: bytes | None) -> str | None:
    """The keyed fingerprint of an address; None without a key or an address."""
    address = normalise(email)
    if address is None or not key:
        return None
    digest = hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest
