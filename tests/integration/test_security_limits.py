"""Limits, on a real gateway and real sockets: body and head sizes as they
arrive, bounded requests in flight (one call in flight and room for two
waiting requests), and slow clients (a head or a body not received within
its timeout, both at 1.5 s, is answered 408 and the connection closed, while
other clients are served; a slow upload within the timeouts works).  (A
body's size as the app reads it: ``tests/unit/test_http_api.py``.)"""
import concurrent.futures
import json
import signal
import socket
import time

import pytest
import requests

from support import RawHttp, assert_problem, create_airport, raw_problem

MAX_BODY = 64 * 1024
MAX_HEAD = 16 * 1024
RPC_TIMEOUT = 3
ID = "0123456789abcdef0123456789abcdef"
TIMEOUT = 1.5  # REQUEST_HEAD_TIMEOUT and REQUEST_BODY_TIMEOUT
# The loop's timers fire late under load; and the answer must reach the client.
MARGIN = 1.5
HEAD = b"POST /airport HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def limited(stack_factory):
    stack = stack_factory(RPC_MAX_IN_FLIGHT="1", RPC_QUEUE_LIMIT="2",
                          RPC_TIMEOUT=str(RPC_TIMEOUT),
                          REQUEST_HEAD_TIMEOUT=str(TIMEOUT),
                          REQUEST_BODY_TIMEOUT=str(TIMEOUT))
    with stack.session() as http:
        stack.airport = create_airport(http, "Quick")["id"]
    return stack


def still_up(stack):
    response = requests.get(stack.url + "/health", timeout=5)
    assert response.status_code == 200


def post(stack, data, **headers):
    return requests.post(stack.url + "/airport", data=data, headers=headers,
                         timeout=10)


# -- bodies -----------------------------------------------------------------


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (with an unknown field)."""
    head = b'{"airport": "x", "pad": "'
    return head + b"p" * (size - len(head) - 2) + b'"}'


def test_chunked_body_over_the_limit_is_413(limited):
    def chunks():
        data = padded(MAX_BODY + 1)
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]

    response = post(limited, chunks())
    assert_problem(response, 413, "The body is larger than 65536 bytes.")


def test_declared_huge_body_is_413_at_its_first_bytes(limited):
    """Content-Length says 10 GB: 413 as soon as the body starts (Falcon
    waits for a first body event), without waiting for the rest."""
    started = time.monotonic()
    status, problem, _ = raw_problem(limited.port, [
        b"POST /airport HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000000\r\n\r\n" + b"{" * 1024
    ])
    assert status == 413 and time.monotonic() - started < 1
    still_up(limited)


def test_endless_chunked_body_is_cut_short(limited):
    """A chunked body that never ends: 413 once past the limit, the
    connection closed, and the rest never read."""
    conn = RawHttp(limited.port)
    try:
        conn.send(b"POST /airport HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (8192, b"{" * 8192)
        started = time.monotonic()
        for _ in range(MAX_BODY // 8192 + 1):
            conn.send(chunk)
        answer = conn.response()
        elapsed = time.monotonic() - started
    finally:
        conn.close()
    assert_problem(answer, 413, "The body is larger than 65536 bytes.")
    assert elapsed < 2
    still_up(limited)


# -- request line and headers ----------------------------------------------


@pytest.mark.parametrize("size", [100_000, 1_000_000])
def test_huge_header_is_431(limited, size):
    response = requests.get(limited.url + "/health", headers={"X-Big": "a" * size},
                            timeout=10)
    assert_problem(response, 431, "The request line and headers exceed 16384 bytes.")
    still_up(limited)


def test_many_headers_are_431(limited):
    headers = {"X-H%d" % i: "b" * 100 for i in range(200)}
    response = requests.get(limited.url + "/health", headers=headers, timeout=10)
    assert_problem(response, 431)


def test_long_url_is_431(limited):
    response = requests.get(limited.url + "/airports?x=" + "a" * 20_000, timeout=10)
    assert_problem(response, 431)
    still_up(limited)


def test_header_below_the_limit_is_fine(limited):
    response = requests.get(limited.url + "/health",
                            headers={"X-Big": "a" * (MAX_HEAD - 1000)}, timeout=10)
    assert response.status_code == 200


def test_endless_head_trickled_in_is_431(limited):
    """A head that keeps coming, never ending: refused once past the limit."""
    pieces = [b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "]
    pieces += [b"s" * 1024] * 40
    status, problem, sent_all = raw_problem(limited.port, pieces, pause=0.005)
    assert status == 431
    assert problem["detail"] == "The request line and headers exceed 16384 bytes."
    still_up(limited)


def test_garbage_is_a_400_problem(limited):
    status, problem, _ = raw_problem(limited.port, [b"\x00\x01 NOT HTTP\r\n\r\n"])
    assert (status, problem["detail"]) == (400, "The request is not valid HTTP.")
    still_up(limited)


# -- requests in flight -----------------------------------------------------


def timed_get(url):
    started = time.monotonic()
    response = requests.get(url, timeout=30)
    return response, time.monotonic() - started


def test_overload_is_a_fast_503(limited):
    """The only proxy stuck on a stopped service, two requests waiting for
    it: every further request is refused at once with 503 and Retry-After."""
    airports = limited.services[0]
    assert airports.name.startswith("airports_svc")
    airports.signal(signal.SIGSTOP)
    try:
        url = limited.url + "/airport/" + ID
        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            stuck = pool.submit(timed_get, url)
            time.sleep(0.3)  # the stuck request has the proxy
            results = list(pool.map(timed_get, [url] * 30))
            stuck_response, stuck_time = stuck.result()
    finally:
        airports.signal(signal.SIGCONT)
    assert_problem(stuck_response, 504)
    assert RPC_TIMEOUT - 0.5 < stuck_time < RPC_TIMEOUT + 1.5
    results.sort(key=lambda result: result[1])
    # Beyond the two that may wait for the proxy: refused at once.
    for response, elapsed in results[:-2]:
        assert_problem(response, 503, "Too many requests in flight; retry shortly.")
        assert response.headers["Retry-After"] == "1"
        assert elapsed < 0.5, elapsed
    # The two queued ones wait at most RPC_TIMEOUT for the proxy, then as
    # long again for the (still stopped) service at most.
    for response, elapsed in results[-2:]:
        assert response.status_code in (503, 504)
        assert elapsed < 2 * RPC_TIMEOUT + 1.5, elapsed


def test_burst_answers_200_or_fast_503(limited):
    created = requests.post(limited.url + "/airport", json={"airport": "Rome"},
                            timeout=10)
    assert created.status_code == 201
    url = limited.url + "/airport/" + created.json()["id"]
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(timed_get, [url] * 300))
    statuses = [response.status_code for response, _ in results]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 3
    for response, _ in results:
        if response.status_code == 503:
            assert_problem(response, 503)
            assert response.headers["Retry-After"] == "1"
    assert max(elapsed for _, elapsed in results) < 5


# -- slow clients -----------------------------------------------------------


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
def test_part_of_a_head_then_nothing_is_408(limited, after_a_request):
    """Also on a kept-alive connection, where uvicorn's keep-alive timer
    stops at the next request's first byte."""
    conn = RawHttp(limited.port)
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
def test_a_declared_body_not_sent_is_408(limited, part):
    conn = RawHttp(limited.port)
    try:
        started = time.monotonic()
        conn.send(HEAD + b"Content-Length: 20\r\n\r\n" + part)
        assert_408(conn, started, "body")
    finally:
        conn.close()


def test_a_connection_that_sends_nothing_is_closed(limited):
    with socket.create_connection(("127.0.0.1", limited.port), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed, without an answer
        assert TIMEOUT - 0.1 < time.monotonic() - started < TIMEOUT + MARGIN


def test_many_slow_clients_do_not_stop_the_others(limited):
    """200 connections stalled in their head or body: meanwhile normal
    requests are answered at once; then each stalled one gets its 408."""
    stalled = []
    started = time.monotonic()
    try:
        for i in range(200):
            conn = RawHttp(limited.port)
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
                response = session.get(limited.url + "/airport/" + limited.airport,
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


def test_a_slow_but_steady_upload_within_the_timeouts_works(limited):
    body = json.dumps({"airport": "Slowly"}).encode()
    pieces = [HEAD[:20], HEAD[20:], b"Content-Length: %d\r\n\r\n" % len(body),
              body[:5], body[5:10], body[10:]]
    conn = RawHttp(limited.port)
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
