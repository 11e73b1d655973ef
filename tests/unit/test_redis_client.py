"""REDIS_URI's forms and REDIS_MIN_REPLICAS, as the services read them."""
import pytest
from redis.sentinel import SentinelConnectionPool

from travel_common.redis_client import (
    SENTINEL_TIMEOUT,
    RedisConfigError,
    SentinelTarget,
    check_uri,
    connect,
    min_replicas,
    parse_sentinel_uri,
)

SECRET = "s3cr3t-pw"

PARSED = [
    ("redis+sentinel://:%s@h1:26379,h2:26380/travel/3" % SECRET,
     SentinelTarget((("h1", 26379), ("h2", 26380)), "travel", 3, None, SECRET)),
    ("redis+sentinel://h1,h2/travel",
     SentinelTarget((("h1", 26379), ("h2", 26379)), "travel", 0)),
    ("redis+sentinel://sentinel.example:5000/travel/0",
     SentinelTarget((("sentinel.example", 5000),), "travel", 0)),
    ("REDIS+SENTINEL://h1/travel/1", SentinelTarget((("h1", 26379),), "travel", 1)),
    ("redis+sentinel://app:%s@h1:26379/travel/0" % SECRET,
     SentinelTarget((("h1", 26379),), "travel", 0, "app", SECRET)),
    ("redis+sentinel://:p%40ss%2Fw%3Ard%2C@h1/travel/0",
     SentinelTarget((("h1", 26379),), "travel", 0, None, "p@ss/w:rd,")),
    ("redis+sentinel://[::1]:26379,[fe80::1]/my%20master/2",
     SentinelTarget((("::1", 26379), ("fe80::1", 26379)), "my master", 2)),
]


@pytest.mark.parametrize("uri, expected", PARSED, ids=[p[0] for p in PARSED])
def test_sentinel_uri_forms(uri, expected):
    assert parse_sentinel_uri(uri) == expected
    check_uri(uri)


BAD = [
    ("redis+sentinel://:%s@/travel/0" % SECRET, "no Sentinel address"),
    ("redis+sentinel://:%s@h1:26379" % SECRET, "no master name"),
    ("redis+sentinel://:%s@h1:26379/" % SECRET, "no master name"),
    ("redis+sentinel://:%s@h1:26379//0" % SECRET, "no master name"),
    ("redis+sentinel://:%s@h1:26379,,h2/travel/0" % SECRET,
     "Sentinel address 2 has no host"),
    ("redis+sentinel://:%s@h1:0/travel/0" % SECRET, "address 1 has no valid port"),
    ("redis+sentinel://:%s@h1:65536/travel/0" % SECRET, "address 1 has no valid port"),
    ("redis+sentinel://:%s@h1,h2:x/travel/0" % SECRET, "address 2 has no valid port"),
    ("redis+sentinel://:%s@[::1/travel/0" % SECRET, "not a valid [IPv6]:port"),
    ("redis+sentinel://:%s@h1/travel/zero" % SECRET, "the database 'zero' is not"),
    ("redis+sentinel://:%s@h1/travel/0/1" % SECRET, "too many path parts"),
    ("redis+sentinel://:%s@h1/travel/0?timeout=1" % SECRET, "options"),
    # a password with an unencoded "/" ends the authority early: still no echo
    ("redis+sentinel://:%s/x@h1:26379/travel/0" % SECRET, "address 1 has no host"),
]


@pytest.mark.parametrize("uri, reason", BAD, ids=[b[1] for b in BAD])
def test_bad_sentinel_uris_are_refused_with_a_clear_message(uri, reason):
    with pytest.raises(RedisConfigError) as refused:
        check_uri(uri)
    message = str(refused.value)
    assert message.startswith("REDIS_URI: ")
    assert reason in message
    assert "/<master name>[/<db>]" in message  # says what the form is
    assert "percent-encoded" in message
    assert SECRET not in message


@pytest.mark.parametrize("uri", ["redis://localhost:6379/0",
                                 "redis://:pw@redis.example:6380/2",
                                 "rediss://redis.example/1",
                                 "unix:///run/redis.sock?db=1"])
def test_plain_uris_are_redis_pys_own(uri):
    check_uri(uri)
    client = connect(uri, socket_timeout=2)
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 2
    assert not isinstance(client.connection_pool, SentinelConnectionPool)


def test_sentinel_client_asks_the_sentinels_with_bounded_waits():
    client = connect("redis+sentinel://:%s@h1:26379,h2:26380/travel/3" % SECRET,
                     socket_timeout=2, decode_responses=True)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "travel" and pool.is_master
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["socket_timeout"]) == (
        3, SECRET, 2)
    sentinels = pool.sentinel_manager.sentinels
    assert [(s.connection_pool.connection_kwargs["host"],
             s.connection_pool.connection_kwargs["port"]) for s in sentinels] == [
        ("h1", 26379), ("h2", 26380)]
    for sentinel in sentinels:
        options = sentinel.connection_pool.connection_kwargs
        assert options["password"] == SECRET
        assert options["socket_timeout"] == SENTINEL_TIMEOUT
        assert options["socket_connect_timeout"] == SENTINEL_TIMEOUT
        assert options["retry"].get_retries() == 0  # each Sentinel asked once


@pytest.mark.parametrize("value, expected", [(0, 0), ("0", 0), ("2", 2), (" 1 ", 1)])
def test_min_replicas(value, expected):
    assert min_replicas(value) == expected


@pytest.mark.parametrize("value", ["-1", "one", "1.5", ""])
def test_bad_min_replicas(value):
    with pytest.raises(RedisConfigError, match="REDIS_MIN_REPLICAS must be a whole"):
        min_replicas(value)
