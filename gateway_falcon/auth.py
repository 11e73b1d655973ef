"""API keys: ``Authorization: Bearer <key>`` on the record URLs.

With no keys configured nothing is checked.  The key a request gives is
compared with every configured key, each in constant time (over digests, so
that lengths leak nothing either); the key itself is never logged nor kept:
``req.context.principal`` holds a short digest of it, to tell callers apart.
"""

import hashlib
import hmac
import logging

from gateway_falcon.errors import Problem

log = logging.getLogger(__name__)

SCHEME = "bearerAuth"  # the OpenAPI security scheme's name
PROTECTED_PREFIXES = ("/airport", "/trip")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def protects(path: str) -> bool:
    """Whether ``path`` needs a key (when keys are configured)."""
    return path.startswith(PROTECTED_PREFIXES)


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def principal_of(key: str) -> str:
    """A non-secret name for a key: a prefix of its SHA-256."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class ApiKeyAuth:
    """Falcon middleware: 401 unless a configured key is given."""

    def __init__(self, keys):
        self._keys = [(_digest(key.encode()), principal_of(key)) for key in keys]

    async def process_request(self, req, resp):
        # OPTIONS (CORS preflight, which carries no credentials) touches nothing.
        if req.method == "OPTIONS" or not protects(req.path):
            return
        given = self._bearer_token(req.get_header("Authorization"))
        if given is None:
            log.info("refused: no API key")
            raise Problem(
                401, "Send an API key: Authorization: Bearer <key>.", headers=CHALLENGE
            )
        # Header values come as latin-1 text: back to the bytes that were sent.
        digest = _digest(given.encode("latin-1", "replace"))
        principal = None
        for key_digest, name in self._keys:  # every key, whatever matches
            if hmac.compare_digest(digest, key_digest):
                principal = name
        if principal is None:
            log.info("refused: unknown API key")
            raise Problem(401, "The API key is not valid.", headers=CHALLENGE)
        req.context.principal = principal

    @staticmethod
    def _bearer_token(header: str | None) -> str | None:
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        return token


def security_scheme() -> dict:
    return {"type": "http", "scheme": "bearer", "description": "An API key."}
