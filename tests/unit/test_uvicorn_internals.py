"""Each of uvicorn's internals that ``gateway_falcon/http_protocol.py`` reaches
into, checked against the installed uvicorn: a failure names the reach and
what changed upstream, before a request ever shows it.

Written against uvicorn 0.54.0 and httptools 0.9.0.  When one of these fails
after an upgrade: read the named upstream code, adapt
``LimitedHttpToolsProtocol`` (and its comments) to it, and only then record
the new shape here.
"""
import asyncio
import inspect
from collections import deque

import httptools
import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from gateway_falcon.http_protocol import LimitedHttpToolsProtocol

from support.fake_transport import StandInTransport
from support.upstream import assert_source_unchanged

UPSTREAM = "uvicorn 0.54.0"

# The methods we override: uvicorn calls them, and we call uvicorn's.
OVERRIDDEN = {
    "__init__": ["self", "config", "server_state", "app_state", "_loop"],
    "connection_made": ["self", "transport"],
    "connection_lost": ["self", "exc"],
    "data_received": ["self", "data"],
    "on_message_begin": ["self"],
    "on_url": ["self", "url"],
    "on_header": ["self", "name", "value"],
    "on_headers_complete": ["self"],
    "on_message_complete": ["self"],
    "send_400_response": ["self", "msg"],
}

# Upstream code whose behaviour ours mirrors or relies on, by the digest of
# its source: any change upstream is for a person to read.
RELIED_ON = {
    # replaced by ours; we write its default headers the same way
    (HttpToolsProtocol, "send_400_response"): "ae5a4a3782b646fd",
    # feeds the parser (our callbacks raise in it), and answers a failed
    # parse with send_400_response
    (HttpToolsProtocol, "data_received"): "010a7ae59a5d3b1a",
    # how a cycle ends when the client leaves: our body timeout does the same
    (HttpToolsProtocol, "connection_lost"): "c91a4c9bf2e29c55",
    # sets self.transport and self.flow
    (HttpToolsProtocol, "connection_made"): "6efb565ff3d36b91",
    # sets self.cycle; queues a pipelined request and pauses reading
    (HttpToolsProtocol, "on_headers_complete"): "1ea8589acfad92d8",
    # pauses reading for a body the application hasn't taken
    (HttpToolsProtocol, "on_body"): "dba9c32aeba35b6a",
    # ends a request's body
    (HttpToolsProtocol, "on_message_complete"): "1fbad42dc31fc01f",
    # resumes reading and starts the next pipelined request
    (HttpToolsProtocol, "on_response_complete"): "64e254f28e389e76",
    # sets response_started / response_complete; closes unless keep_alive
    (RequestResponseCycle, "send"): "abdd8601b326a8da",
}

# Attributes we read or set, on a protocol that received a request's head
# and part of its body: (path, type it must have).
ATTRIBUTES = [
    ("loop", asyncio.AbstractEventLoop),
    ("transport", StandInTransport),
    ("flow.read_paused", bool),
    ("pipeline", deque),
    ("parser.should_upgrade", type(httptools.HttpRequestParser(None).should_upgrade)),
    ("server_state.default_headers", list),
    ("cycle", RequestResponseCycle),
    ("cycle.response_started", bool),
    ("cycle.response_complete", bool),
    ("cycle.keep_alive", bool),
    ("cycle.disconnected", bool),
    ("cycle.message_event", asyncio.Event),
]


@pytest.mark.parametrize("name, parameters", OVERRIDDEN.items(), ids=list(OVERRIDDEN))
def test_overridden_method_keeps_its_signature(name, parameters):
    upstream = list(inspect.signature(getattr(HttpToolsProtocol, name)).parameters)
    assert upstream == parameters, (
        "uvicorn's HttpToolsProtocol.%s now takes %s, not %s as in %s: "
        "LimitedHttpToolsProtocol.%s must follow" % (
            name, upstream, parameters, UPSTREAM, name)
    )
    ours = getattr(LimitedHttpToolsProtocol, name)
    if name in vars(LimitedHttpToolsProtocol):
        assert list(inspect.signature(ours).parameters) == parameters


@pytest.mark.parametrize("owner, name", RELIED_ON, ids=[
    "%s.%s" % (owner.__name__, name) for owner, name in RELIED_ON])
def test_relied_on_upstream_code_is_unchanged(owner, name):
    assert_source_unchanged(owner, name, RELIED_ON[owner, name], UPSTREAM,
                            "gateway_falcon/http_protocol.py")


async def protocol_in_a_body() -> HttpToolsProtocol:
    """uvicorn's own protocol, after a request's head and part of its body."""

    async def app(scope, receive, send):
        await receive()

    config = Config(app=app, lifespan="off", log_config=None)
    config.load()
    protocol = HttpToolsProtocol(config, ServerState(), {})
    protocol.connection_made(StandInTransport())
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{")
    await asyncio.sleep(0)
    return protocol


@pytest.mark.parametrize("path, kind", ATTRIBUTES, ids=[p for p, _ in ATTRIBUTES])
def test_attribute_we_use_is_there(path, kind):
    async def resolve():
        value = await protocol_in_a_body()
        for name in path.split("."):
            assert hasattr(value, name), (
                "uvicorn's HttpToolsProtocol has no %s any more (%s had it): "
                "gateway_falcon/http_protocol.py reads it" % (path, UPSTREAM)
            )
            value = getattr(value, name)
        return value

    value = asyncio.run(resolve())
    assert isinstance(value, kind), (
        "uvicorn's HttpToolsProtocol.%s is a %s now, not a %s as in %s"
        % (path, type(value).__name__, kind.__name__, UPSTREAM)
    )


def test_an_error_in_a_parser_callback_fails_the_parse():
    """Our head-size check raises in httptools' callbacks; httptools 0.9 then
    raises an ``HttpParserError``, which uvicorn answers (``send_400_response``)."""
    assert issubclass(httptools.HttpParserCallbackError, httptools.HttpParserError)
