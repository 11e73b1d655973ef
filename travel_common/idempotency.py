"""Idempotency keys for creates.

Every create the gateway sends carries a key, so that a call redelivered after
a service instance died (nameko acks a request only after replying) does not
create a second record.  A client's own ``Idempotency-Key`` is kept for a day,
scoped to whoever sent it; a key the gateway made up only has to outlive
redeliveries.
"""

import hashlib
import json
import re
import uuid

# A client's ``Idempotency-Key`` header: 1 to 255 visible ASCII characters.
TOKEN_PATTERN = r"[!-~]{1,255}"
_TOKEN = re.compile(TOKEN_PATTERN)
CLIENT_KEY_TTL = 24 * 3600
AUTO_KEY_TTL = 3600
_AUTO_PREFIX = "auto:"


def auto_key() -> str:
    return _AUTO_PREFIX + uuid.uuid4().hex


def is_token(value: str) -> bool:
    """Whether ``value`` is a valid ``Idempotency-Key`` header."""
    return _TOKEN.fullmatch(value) is not None


def client_key(token: str, principal: str = "") -> str:
    """The key for a client's ``Idempotency-Key`` header, scoped to its principal."""
    digest = hashlib.sha256(("%s\0%s" % (principal, token)).encode()).hexdigest()
    return "client:" + digest


def ttl_for(key: str) -> int:
    return AUTO_KEY_TTL if key.startswith(_AUTO_PREFIX) else CLIENT_KEY_TTL


def fingerprint(fields: dict) -> str:
    """What identifies a request body: the same fields give the same value."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
