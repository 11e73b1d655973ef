"""Checks that a library's internals are still the ones an adapter of ours
was written against (the unit tests ``test_*_internals.py``)."""
import hashlib
import inspect


def source_digest(function) -> str:
    """A short digest of ``function``'s source."""
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def assert_source_unchanged(owner: type, name: str, recorded: str, upstream: str,
                            adapter: str) -> None:
    """``owner.name``'s source is still the one recorded for ``upstream``
    (e.g. "uvicorn 0.54.0"); else a message saying what to do."""
    found = source_digest(getattr(owner, name))
    assert found == recorded, (
        "%s.%s of %s is not the one %s was written against (%s): read it, "
        "adapt %s to it, then record its new digest %s"
        % (owner.__name__, name, owner.__module__, adapter, upstream, adapter, found)
    )
