"""Slow clients can't hold the gateway: a head or a body not received within
its timeout is answered 408 (a problem document) and the connection closed,
while other clients are served; a slow upload within the timeouts works.
On a real gateway with both timeouts at 1.5 s."""
import json
import socket
import time

import pytest
import requests

from support import RawHttp, assert_problem, create_airport

TIMEOUT = 1.5
# The loop's timers fire late under load; and the answer must reach the client.
MARGIN = 1.5
HEAD = b"POST /airport HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def gateway(stack_factory):
    stack = stack_factory(REQUEST_HEAD_TIMEOUT=str(TIMEOUT),
                          REQUEST_BODY_TIMEOUT=str(TIMEOUT))
    with stack.session() as http:
        stack.airport = create_airport(http, "Quick")["id"]
    return stack


def assert_408(conn: RawHttp, started: float, what: str):
    """The connection gets a 408 problem, then is closed, in time."""
    answer = conn.response()  # read until the server closes
    elapsed = time.monotonic() - started
    assert_problem(answer, 408,
                   "The request %s was not received within %g s." % (what, TIMEOUT))
    assert answer.headers["connection"] == "close"
    assert TIMEOUT - 0.1 < elapsed < TIMEOUT + MARGIN, elapsed
    return elapsed


@pytest.mark.parametrize("after_a_request", [False, True])
def test_part_of_a_head_then_nothing_is_408(gateway, after_a_request):
    """Also on a kept-alive connection, where uvicorn's keep-alive timer
    stops at the next request's first byte."""
    conn = RawHttp(gateway.port)
    try:
        if after_a_request:
            conn.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            answered = b""  # the whole answer: its head and body may come apart
            while not answered.endswith(b'{"status": "ok"}'):
                chunk = conn.sock.recv(65536)
                assert chunk, answered  # not closed before the whole answer
                answered += chunk
            assert answered.startswith(b"HTTP/1.1 200 OK\r\n")
        started = time.monotonic()
        conn.send(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert_408(conn, started, "head")
    finally:
        conn.close()


@pytest.mark.parametrize("part", [b"", b'{"airport": '])
def test_a_declared_body_not_sent_is_408(gateway, part):
    conn = RawHttp(gateway.port)
    try:
        started = time.monotonic()
        conn.send(HEAD + b"Content-Length: 20\r\n\r\n" + part)
        assert_408(conn, started, "body")
    finally:
        conn.close()


def test_a_connection_that_sends_nothing_is_closed(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed, without an answer
        assert TIMEOUT - 0.1 < time.monotonic() - started < TIMEOUT + MARGIN


def test_many_slow_clients_do_not_stop_the_others(gateway):
    """200 connections stalled in their head or body: meanwhile normal
    requests are answered at once; then each stalled one gets its 408."""
    stalled = []
    started = time.monotonic()
    try:
        for i in range(200):
            conn = RawHttp(gateway.port)
            stalled.append(conn)
            if i % 2:
                conn.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            else:
                conn.send(HEAD + b"Content-Length: 30\r\n\r\n{")
        opened = time.monotonic() - started
        served = []
        with requests.Session() as session:
            while time.monotonic() - started < TIMEOUT - 0.3:
                sent = time.monotonic()
                response = session.get(gateway.url + "/airport/" + gateway.airport,
                                       timeout=5)
                served.append((response.status_code, time.monotonic() - sent))
        assert len(served) >= 5, (opened, served)
        assert {status for status, _ in served} == {200}
        slowest = max(seconds for _, seconds in served)
        assert slowest < 0.5, served
        for conn in stalled:
            conn.sock.settimeout(max(0.1, started + TIMEOUT + MARGIN
                                     - time.monotonic()))
            status, headers, _ = conn.response()
            assert (status, headers["connection"]) == (408, "close")
        print("opened 200 stalled connections in %.2f s; %d normal requests, "
              "slowest %.3f s; all 408 within %.2f s"
              % (opened, len(served), slowest, time.monotonic() - started))
    finally:
        for conn in stalled:
            conn.close()


def test_a_slow_but_steady_upload_within_the_timeouts_works(gateway):
    body = json.dumps({"airport": "Slowly"}).encode()
    pieces = [HEAD[:20], HEAD[20:], b"Content-Length: %d\r\n\r\n" % len(body),
              body[:5], body[5:10], body[10:]]
    conn = RawHttp(gateway.port)
    try:
        for piece in pieces:  # 0.25 s apart: each part within 1.5 s
            assert conn.send(piece)
            time.sleep(0.25)
        conn.send(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := conn.sock.recv(65536):
            raw += chunk
    finally:
        conn.close()
    assert raw.startswith(b"HTTP/1.1 201 Created\r\n"), raw
    assert b'"airport": "Slowly"' in raw
    assert raw.count(b"HTTP/1.1 200 OK\r\n") == 1  # and the connection lived on
