"""nameko-redis's ``Redis`` provider, as ``RecordsProvider``
(``travel_common/records_provider.py``) relies on it, checked against the
installed nameko-redis: a failure names what changed upstream.

Written against nameko-redis 1.1.0.  When one of these fails after an
upgrade: read the named upstream code, adapt ``RecordsProvider`` (and its
``# nameko-redis`` comment) to it, and only then record the new shape here.
"""
import pytest
from nameko_redis import Redis

from support.upstream import assert_source_unchanged

UPSTREAM = "nameko-redis 1.1.0"
OURS = "travel_common/records_provider.py"

RELIED_ON = {
    # RecordsProvider.setup calls it for self.redis_uri
    (Redis, "setup"): "8350600418a75083",
    # RecordsProvider.start replaces it: the client from our URI forms
    (Redis, "start"): "0df4e388f8f7f9fc",
}


@pytest.mark.parametrize("owner, name", RELIED_ON, ids=[
    "%s.%s" % (owner.__name__, name) for owner, name in RELIED_ON])
def test_relied_on_upstream_code_is_unchanged(owner, name):
    assert_source_unchanged(owner, name, RELIED_ON[owner, name], UPSTREAM, OURS)


def test_options_are_kept_for_the_client():
    """``RecordsProvider.start`` builds the client with ``self.options``."""
    assert Redis("travel", socket_timeout=2).options == {
        "decode_responses": True, "socket_timeout": 2}, (
        "nameko-redis's Redis no longer keeps its client options in "
        "self.options (%s): %s builds its client with them" % (UPSTREAM, OURS))
