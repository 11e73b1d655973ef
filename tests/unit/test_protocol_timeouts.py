"""The gateway's protocol's read timeouts, in-process on uvicorn's own
``HttpToolsProtocol`` with a stand-in transport (the uvicorn internals it
relies on are checked one by one in ``test_uvicorn_internals.py``)."""
import asyncio
import json

from uvicorn.config import Config
from uvicorn.server import ServerState

from gateway_falcon.http_protocol import limited_httptools

from support.fake_transport import StandInTransport

TIMEOUT = 0.05


async def exchange(data: bytes, app_seconds: float = 0.0) -> tuple:
    """Feed ``data`` to a new connection, wait past the timeouts; what the
    transport got and what the application received (it answers each
    request after ``app_seconds``)."""
    received = []

    async def app(scope, receive, send):
        received.append(await receive())
        while received[-1].get("more_body"):  # read the whole body
            received.append(await receive())
        await asyncio.sleep(app_seconds)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = Config(app=app, lifespan="off", log_config=None)
    config.load()
    protocol = limited_httptools(16384, TIMEOUT, TIMEOUT)(config, ServerState(), {})
    transport = StandInTransport()
    protocol.connection_made(transport)
    protocol.data_received(data)
    await asyncio.sleep(TIMEOUT * 4 + app_seconds)
    return transport, received


def answer(transport) -> tuple:
    head, _, body = transport.written.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


def test_a_head_not_ended_in_time_is_408():
    transport, received = asyncio.run(exchange(b"GET / HTTP/1.1\r\nHost: x\r\n"))
    assert answer(transport) == (b"HTTP/1.1 408 Request Timeout", {
        "type": "about:blank", "title": "Request Timeout", "status": 408,
        "detail": "The request head was not received within 0.05 s."})
    assert transport.eof and received == []


def test_a_body_not_ended_in_time_is_408_and_the_app_sees_a_disconnect():
    transport, received = asyncio.run(exchange(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{"))
    status, problem = answer(transport)
    assert status == b"HTTP/1.1 408 Request Timeout"
    assert problem["detail"] == "The request body was not received within 0.05 s."
    assert received == [{"type": "http.request", "body": b"{", "more_body": True},
                        {"type": "http.disconnect"}]
    assert transport.written.count(b"HTTP/1.1") == 1  # the app's answer dropped


def test_a_whole_request_is_answered_and_arms_no_timer():
    transport, received = asyncio.run(exchange(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"))
    assert transport.written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert received == [{"type": "http.request", "body": b"{}", "more_body": False}]
    assert not transport.closed  # kept alive: uvicorn's keep-alive timer's now


def test_a_pipelined_head_waiting_for_an_earlier_answer_is_not_late():
    """The 408 of a head left unfinished comes after the answer to the
    request before it, however long that took."""
    transport, _ = asyncio.run(exchange(
        b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\n",
        app_seconds=TIMEOUT * 3))
    first, second = transport.written.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 OK\r\n") and second.startswith(b"408 ")
