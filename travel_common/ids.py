"""Record ids: 32 lowercase hex characters (a uuid4's hex form)."""

import re
import uuid

ID_PATTERN = r"[0-9a-f]{32}"
_ID_RE = re.compile(ID_PATTERN)


def new_id() -> str:
    return uuid.uuid4().hex


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None
