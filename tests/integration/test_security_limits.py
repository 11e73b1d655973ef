"""Limits: body and head sizes as they arrive on a real socket, and bounded
requests in flight, on a real gateway with one call in flight and room for
two waiting requests.  (A body's size as the app reads it:
``tests/unit/test_http_api.py``.)"""
import concurrent.futures
import signal
import time

import pytest
import requests

from support import RawHttp, assert_problem, raw_problem

MAX_BODY = 64 * 1024
MAX_HEAD = 16 * 1024
RPC_TIMEOUT = 3
ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def small(stack_factory):
    return stack_factory(RPC_MAX_IN_FLIGHT="1", RPC_QUEUE_LIMIT="2",
                         RPC_TIMEOUT=str(RPC_TIMEOUT))


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


def test_chunked_body_over_the_limit_is_413(small):
    def chunks():
        data = padded(MAX_BODY + 1)
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]

    response = post(small, chunks())
    assert_problem(response, 413, "The body is larger than 65536 bytes.")


def test_declared_huge_body_is_413_at_its_first_bytes(small):
    """Content-Length says 10 GB: 413 as soon as the body starts (Falcon
    waits for a first body event), without waiting for the rest."""
    started = time.monotonic()
    status, problem, _ = raw_problem(small.port, [
        b"POST /airport HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000000\r\n\r\n" + b"{" * 1024
    ])
    assert status == 413 and time.monotonic() - started < 1
    still_up(small)


def test_endless_chunked_body_is_cut_short(small):
    """A chunked body that never ends: 413 once past the limit, the
    connection closed, and the rest never read."""
    conn = RawHttp(small.port)
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
    still_up(small)


# -- request line and headers ----------------------------------------------


@pytest.mark.parametrize("size", [100_000, 1_000_000])
def test_huge_header_is_431(small, size):
    response = requests.get(small.url + "/health", headers={"X-Big": "a" * size},
                            timeout=10)
    assert_problem(response, 431, "The request line and headers exceed 16384 bytes.")
    still_up(small)


def test_many_headers_are_431(small):
    headers = {"X-H%d" % i: "b" * 100 for i in range(200)}
    response = requests.get(small.url + "/health", headers=headers, timeout=10)
    assert_problem(response, 431)


def test_long_url_is_431(small):
    response = requests.get(small.url + "/airports?x=" + "a" * 20_000, timeout=10)
    assert_problem(response, 431)
    still_up(small)


def test_header_below_the_limit_is_fine(small):
    response = requests.get(small.url + "/health",
                            headers={"X-Big": "a" * (MAX_HEAD - 1000)}, timeout=10)
    assert response.status_code == 200


def test_endless_head_trickled_in_is_431(small):
    """A head that keeps coming, never ending: refused once past the limit."""
    pieces = [b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "]
    pieces += [b"s" * 1024] * 40
    status, problem, sent_all = raw_problem(small.port, pieces, pause=0.005)
    assert status == 431
    assert problem["detail"] == "The request line and headers exceed 16384 bytes."
    still_up(small)


def test_garbage_is_a_400_problem(small):
    status, problem, _ = raw_problem(small.port, [b"\x00\x01 NOT HTTP\r\n\r\n"])
    assert (status, problem["detail"]) == (400, "The request is not valid HTTP.")
    still_up(small)


# -- requests in flight -----------------------------------------------------


def timed_get(url):
    started = time.monotonic()
    response = requests.get(url, timeout=30)
    return response, time.monotonic() - started


def test_overload_is_a_fast_503(small):
    """The only proxy stuck on a stopped service, two requests waiting for
    it: every further request is refused at once with 503 and Retry-After."""
    airports = small.services[0]
    assert airports.name.startswith("airports_svc")
    airports.signal(signal.SIGSTOP)
    try:
        url = small.url + "/airport/" + ID
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


def test_burst_answers_200_or_fast_503(small):
    created = requests.post(small.url + "/airport", json={"airport": "Rome"},
                            timeout=10)
    assert created.status_code == 201
    url = small.url + "/airport/" + created.json()["id"]
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
