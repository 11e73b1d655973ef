"""The servers ``AMQP_URI`` and ``REDIS_URI`` name, and whether they answer
(``ensure_services``; standard library only: it runs before the virtual
environment exists)."""

from __future__ import annotations

import socket
import time
import urllib.parse
from dataclasses import dataclass

LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", ""}


class BadUri(ValueError):
    """A URI this script cannot read (the message names the variable)."""


@dataclass(frozen=True)
class Server:
    name: str  # "RabbitMQ"
    variable: str  # the environment variable naming it
    endpoints: tuple  # ((host, port), ...) any of which may answer
    startable: bool  # one plain endpoint on this machine: ours to start
    package: str  # the Debian package, also its server command
    compose_service: str

    @property
    def where(self) -> str:
        return ", ".join(
            host if port is None else "%s:%s" % (host, port)
            for host, port in self.endpoints
        )

    @property
    def local(self) -> bool:
        return all(_is_local(host) for host, _ in self.endpoints)


def _host_port(netloc: str, default_port: int, variable: str) -> tuple:
    """"user:pw@host:port" (or "[v6]:port", or "host") -> (host, port)."""
    hostport = netloc.rpartition("@")[2]
    try:
        parsed = urllib.parse.urlsplit("//" + hostport)
        return (parsed.hostname or "localhost", parsed.port or default_port)
    except ValueError:  # not echoed: a badly quoted password may be in it
        raise BadUri("%s has a host or port that isn't valid" % variable) from None


def _is_local(host: str) -> bool:
    return host in LOCAL_NAMES or host.startswith("127.")


def amqp_server(uri: str) -> Server:
    """``amqp://`` or ``amqps://``, or several of them separated by ``;``."""
    endpoints, schemes = [], set()
    for one in filter(None, (part.strip() for part in uri.split(";"))):
        scheme, _, rest = one.partition("://")
        if scheme not in ("amqp", "amqps") or not rest:
            raise BadUri("AMQP_URI is not an amqp:// or amqps:// URI")
        schemes.add(scheme)
        port = 5671 if scheme == "amqps" else 5672
        endpoints.append(_host_port(rest.partition("/")[0], port, "AMQP_URI"))
    if not endpoints:
        raise BadUri("AMQP_URI is empty")
    startable = (
        len(endpoints) == 1 and schemes == {"amqp"} and _is_local(endpoints[0][0])
    )
    return Server("RabbitMQ", "AMQP_URI", tuple(endpoints), startable,
                  "rabbitmq-server", "rabbitmq")


def redis_server(uri: str) -> Server:
    """``redis://``, ``rediss://``, ``unix://`` or
    ``redis+sentinel://[:password@]h1:26379,h2:26379/<master>/<db>``."""
    scheme, _, rest = uri.strip().partition("://")
    netloc = rest.partition("/")[0]
    if scheme == "redis+sentinel":
        hosts = netloc.rpartition("@")[2].split(",")
        endpoints = [_host_port(host, 26379, "REDIS_URI") for host in hosts if host]
        if not endpoints:
            raise BadUri("REDIS_URI names no Sentinel")
    elif scheme in ("redis", "rediss"):
        endpoints = [_host_port(netloc, 6379, "REDIS_URI")]
    elif scheme == "unix":
        endpoints = [(urllib.parse.urlsplit(uri).path, None)]
    else:
        raise BadUri("REDIS_URI is not a redis://, rediss://, redis+sentinel:// "
                     "or unix:// URI")
    startable = scheme == "redis" and _is_local(endpoints[0][0])
    return Server("Redis", "REDIS_URI", tuple(endpoints), startable,
                  "redis-server", "redis")


def answers(host: str, port: int | None, timeout: float = 1.0) -> bool:
    """A connection is accepted (at a Unix socket's path when ``port`` is None)."""
    try:
        if port is None:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(host)
        else:
            socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def any_answers(server: Server) -> bool:
    return any(answers(host, port) for host, port in server.endpoints)


def wait_until_answers(server: Server, seconds: float) -> bool:
    give_up_at = time.monotonic() + seconds
    while not any_answers(server):
        if time.monotonic() > give_up_at:
            return False
        time.sleep(0.25)
    return True
