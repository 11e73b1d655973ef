"""The services' Redis client, from ``REDIS_URI``.

Two forms:

- ``redis://[[user]:password@]host:port/<db>`` (and redis-py's other URL forms):
  one server, through ``redis.Redis.from_url`` as before.
- ``redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master>[/<db>]``:
  the primary that the Sentinels at those addresses watch under the name
  ``<master>`` (port 26379 when left out, database 0).  The credentials are
  used for the Sentinels and for the Redis servers alike; characters such as
  ``@ / : ,`` in them must be percent-encoded.

The Sentinel form is redis-py's ``Sentinel.master_for``: each new connection
asks the Sentinels where the primary is (``SentinelManagedConnection``), a
demoted primary's ``READONLY`` answer closes the connection and is raised as a
``ConnectionError``, and the client's one immediate retry then connects
afresh, to the promoted primary.  Every wait is bounded: each Sentinel gets
``SENTINEL_TIMEOUT`` to answer and is asked once (redis-py's default would
retry each one ten times with back-off), so that a call made while no primary
is known fails within a second or two instead of hanging.
"""

from dataclasses import dataclass
from urllib.parse import unquote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379
SENTINEL_TIMEOUT = 0.5  # seconds, to connect to one Sentinel and to read its answer
SENTINEL_FORM = (
    "redis+sentinel://[[user]:password@]host[:port][,host[:port]...]"
    "/<master name>[/<db>]"
)


class RedisConfigError(ValueError):
    """``REDIS_URI`` or ``REDIS_MIN_REPLICAS`` can't be used.  The message never
    repeats the URI's credentials, nor any part of the authority (which holds
    them when a password is not percent-encoded)."""


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple  # ((host, port), ...)
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def is_sentinel_uri(uri: str) -> bool:
    return uri[: len(SENTINEL_SCHEME)].lower() == SENTINEL_SCHEME


def _invalid(reason: str) -> RedisConfigError:
    return RedisConfigError(
        "REDIS_URI: %s; expected %s, with any of @ / : , in the credentials "
        "percent-encoded" % (reason, SENTINEL_FORM)
    )


def _address(text: str, position: int) -> tuple:
    """``host[:port]`` or ``[v6 address][:port]``, as (host, port)."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise _invalid("Sentinel address %d is not a valid [IPv6]:port" % position)
        port = rest[1:] if rest else ""
    else:
        host, _, port = text.partition(":")
    if not host:
        raise _invalid("Sentinel address %d has no host" % position)
    if not port:
        return host, SENTINEL_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise _invalid("Sentinel address %d has no valid port (1 to 65535)" % position)
    return host, int(port)


def parse_sentinel_uri(uri: str) -> SentinelTarget:
    """The parts of a ``redis+sentinel://`` URI; ``RedisConfigError`` if malformed."""
    if not is_sentinel_uri(uri):
        raise _invalid("not a redis+sentinel URI")
    authority, _, path = uri[len(SENTINEL_SCHEME) :].partition("/")
    userinfo, _, hosts = authority.rpartition("@")
    username, _, password = userinfo.partition(":")
    if not hosts:
        raise _invalid("no Sentinel address")
    sentinels = tuple(
        _address(text, position)
        for position, text in enumerate(hosts.split(","), start=1)
    )
    if "?" in path or "#" in path:
        raise _invalid("options (?...) are not supported")
    master, _, db = path.partition("/")
    if not master:
        raise _invalid("no master name after the Sentinel addresses")
    if "/" in db:
        raise _invalid("too many path parts after the master name")
    if db and not db.isdigit():
        raise _invalid("the database %r is not a number" % db)
    return SentinelTarget(
        sentinels=sentinels,
        master=unquote(master),
        db=int(db or 0),
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def check_uri(uri: str) -> None:
    """Raise ``RedisConfigError`` now, at start-up, for a URI that can't work."""
    if is_sentinel_uri(uri):
        parse_sentinel_uri(uri)


def connect(uri: str, **options) -> redis.Redis:
    """A client for the Redis that ``uri`` names; ``options`` as for
    ``redis.Redis`` (timeouts, retry, ``decode_responses``...)."""
    if not is_sentinel_uri(uri):
        return redis.Redis.from_url(uri, **options)
    target = parse_sentinel_uri(uri)
    credentials = {"username": target.username, "password": target.password}
    sentinel = Sentinel(
        target.sentinels,
        sentinel_kwargs=dict(
            credentials,
            socket_timeout=SENTINEL_TIMEOUT,
            socket_connect_timeout=SENTINEL_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        ),
    )
    return sentinel.master_for(target.master, db=target.db, **credentials, **options)


def min_replicas(value) -> int:
    """``REDIS_MIN_REPLICAS`` as a number of replicas, 0 or more."""
    text = str(value).strip()
    if not text.isdigit():
        raise RedisConfigError(
            "REDIS_MIN_REPLICAS must be a whole number, 0 or more, not %r" % text
        )
    return int(text)
