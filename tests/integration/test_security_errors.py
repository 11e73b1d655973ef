"""Error hygiene: every error path provoked for real, on a stack with its own
Redis server; answers carry no internals, and the details are in the logs
under the request id."""
import time
import uuid

import pytest
import requests

from support import Vhost, assert_problem, leaks, rabbitmqctl, running_stack, wait_until

BAD_ID = "0123456789ABCDEF0123456789ABCDEF"
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def vhost():
    """The module's own: a test deletes it, as if the broker were gone."""
    vhost = Vhost()
    yield vhost
    vhost.delete()


@pytest.fixture(scope="module")
def stack(vhost, redis_server, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("err-logs"), vhost.uri,
                       redis_server.uri, RPC_TIMEOUT="2") as stack:
        yield stack


@pytest.fixture(scope="module")
def client(redis_server):
    import redis

    client = redis.Redis(port=redis_server.port, decode_responses=True)
    yield client
    client.close()


def call(stack, method, path, request_id=None, **kwargs):
    headers = kwargs.pop("headers", {})
    headers["X-Request-ID"] = request_id or "sec-" + uuid.uuid4().hex
    return requests.request(method, stack.url + path, headers=headers, timeout=15,
                            **kwargs)


def services_log(stack) -> str:
    return "".join(process.log() for process in stack.services)


def create_airport(stack, name="Lisbon") -> str:
    response = call(stack, "POST", "/airport", json={"airport": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


DEEP = b"[" * 100_000 + b"]" * 100_000
CLIENT_ERRORS = [
    # (method, path, kwargs, status, detail)
    ("POST", "/airport", {"data": b"{not json"}, 400, "The body is not valid JSON."),
    ("POST", "/airport", {"data": b"\xff\xfe\x00"}, 400, "The body is not valid JSON."),
    ("POST", "/airport", {"data": b"[1, 2]"}, 400, "The body must be a JSON object."),
    ("POST", "/airport", {"data": b'"text"'}, 400, "The body must be a JSON object."),
    ("POST", "/airport", {"data": b"[" * 60_000}, 400, None),
    ("POST", "/airport", {"data": b'{"a":' * 5_000 + b"1" + b"}" * 5_000}, 400,
     "The body is nested too deeply."),
    ("POST", "/airport", {"data": b'{"airport": ' + b"9" * 5000 + b"}"}, 400,
     "The body is not valid JSON."),
    ("POST", "/airport", {"data": b'{"airport": "x"}',
                          "headers": {"Content-Type": "text/plain"}}, 415, None),
    ("POST", "/airport", {"json": {"airport": "a\u0000b"}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "a\u009bb"}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "a\ud800b"}}, 422, None),
    ("POST", "/airport", {"json": {"airport": " \t\n "}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x" * 101}}, 422, None),
    ("POST", "/airport", {"json": {"airport": 5}}, 422, None),
    ("POST", "/airport", {"json": {"airport": ["x"] * 5000}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x", "id": UNKNOWN_ID}}, 422, None),
    ("POST", "/airport", {"json": {"airport": "x", "extra": 1}}, 422, None),
    ("POST", "/trip", {"json": {"airport_from": "x", "airport_to": "y"}}, 422, None),
    ("POST", "/trip", {"json": {"airport_from": UNKNOWN_ID, "airport_to": BAD_ID}},
     422, None),
    ("POST", "/airport", {"json": {"airport": "x"},
                          "headers": {"Idempotency-Key": "has space"}}, 400, None),
    ("GET", "/airport/" + BAD_ID, {}, 404, "No record with this id."),
    ("GET", "/trip/" + UNKNOWN_ID[:-1], {}, 404, "No record with this id."),
    ("DELETE", "/airport/%2e%2e%2f%2e%2e%2fetc%2fpasswd", {}, 404, None),
    ("GET", "/airport/" + UNKNOWN_ID, {}, 404, "No record with this id."),
    ("GET", "/nowhere/at/all.py", {}, 404, None),
    ("PATCH", "/airport", {}, 405, None),
    ("PUT", "/trip/" + UNKNOWN_ID, {}, 405, None),
    ("GET", "/airports?limit=0", {}, 422, None),
    ("GET", "/airports?limit=" + "9" * 5000, {}, 422, None),
    ("GET", "/airports?limit=1&limit=2", {}, 422, None),
    ("GET", "/airports?cursor=..%2F..%2Fx", {}, 422, None),
    ("GET", "/trips?airport=nothex", {}, 422, None),
    ("GET", "/airports?debug=1", {}, 422, None),
]


@pytest.mark.parametrize("method,path,kwargs,status,detail", CLIENT_ERRORS)
def test_client_errors_leak_nothing(stack, method, path, kwargs, status, detail):
    started = time.monotonic()
    response = call(stack, method, path, **kwargs)
    assert time.monotonic() - started < 1
    assert_problem(response, status, detail)


@pytest.mark.parametrize("method,path", [
    ("GET", "/airport/" + BAD_ID), ("DELETE", "/trip/xyz"),
    ("GET", "/trip/" + UNKNOWN_ID + "0"), ("POST", "/airport"),
])
def test_refused_shapes_never_reach_a_service(stack, method, path):
    request_id = "shape-" + uuid.uuid4().hex
    response = call(stack, method, path, request_id, data=b"[1]")
    assert response.status_code in (400, 404)
    assert request_id in stack.gateway.log()
    assert request_id not in services_log(stack)


def test_names_are_stripped(stack):
    response = call(stack, "POST", "/airport", json={"airport": " \t Faro \n"})
    assert response.status_code == 201
    assert response.json()["airport"] == "Faro"


def test_unexpected_service_error_is_a_bare_502(stack, client):
    record_id = create_airport(stack)
    client.delete("airports:rec:" + record_id)
    client.set("airports:rec:" + record_id, "x")  # HGETALL: WRONGTYPE
    request_id = "broken-" + uuid.uuid4().hex
    response = call(stack, "GET", "/airport/" + record_id, request_id)
    assert_problem(response, 502, "A service failed to handle the request.")
    assert response.headers["X-Request-ID"] == request_id
    assert_problem(call(stack, "GET", "/airports?limit=100"), 502)
    # The details, in the logs, under the request id.
    gateway_lines = [line for line in stack.gateway.log().splitlines()
                     if request_id in line]
    assert any("rpc failed" in line and "WRONGTYPE" in line
               for line in gateway_lines), gateway_lines
    service_log = services_log(stack)
    assert request_id in service_log
    trace = service_log[service_log.index(request_id):]
    assert "Traceback" in trace and "WRONGTYPE" in trace
    assert call(stack, "DELETE", "/airport/" + record_id).status_code == 204


def test_redis_down_is_a_503_without_details(stack, redis_server):
    record_id = create_airport(stack)
    redis_server.stop()
    try:
        request_id = "noredis-" + uuid.uuid4().hex
        response = call(stack, "POST", "/airport", request_id,
                        json={"airport": "Nice"})
        assert_problem(response, 503, "The data store is unavailable.")
        assert response.headers["Retry-After"] == "1"
        assert_problem(call(stack, "GET", "/airport/" + record_id), 503)
        assert_problem(call(stack, "GET", "/airports"), 503)
        ready = call(stack, "GET", "/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"]["status"] == "down"
        # /ready names its dependencies, but nothing more.
        assert leaks(ready.text.replace('"redis"', '"store"')) == [], ready.text
        assert request_id in services_log(stack)
    finally:
        redis_server.start()
    wait_until(lambda: call(stack, "GET", "/airport/" + record_id).status_code == 200,
               20, interval=0.2, what="the stack to see Redis again")


def test_service_not_running_is_a_503_without_details(stack):
    airports = next(p for p in stack.services if p.name.startswith("airports"))
    trip_ends = [create_airport(stack, "A"), create_airport(stack, "B")]
    airports.stop()
    try:
        started = time.monotonic()
        response = call(stack, "GET", "/airport/" + trip_ends[0])
        assert time.monotonic() - started < 1
        assert_problem(response, 503, "The service is not running.")
        assert response.headers["Retry-After"] == "1"
        # trips is up, but the airports service it calls is not.
        trip = call(stack, "POST", "/trip",
                    json={"airport_from": trip_ends[0], "airport_to": trip_ends[1]})
        assert_problem(trip, 503)
        assert trip.headers["Retry-After"] == "1"
    finally:
        airports.start()
    stack.wait_ready()


def test_broker_gone_is_a_503_without_details(stack, vhost):
    """Last: the services stop and the stack's vhost is deleted under the
    gateway; its proxies can neither call nor reconnect."""
    for process in stack.services:
        process.stop()
    rabbitmqctl("delete_vhost", vhost.name)
    for path in ("/airport/" + UNKNOWN_ID, "/airports", "/trips"):
        started = time.monotonic()
        response = call(stack, "GET", path)
        assert time.monotonic() - started < 3
        assert_problem(response, 503)
        assert response.headers["Retry-After"] == "1"
    ready = call(stack, "GET", "/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["rabbitmq"]["status"] == "down"
    assert leaks(ready.text.replace('"redis"', '"store"')) == [], ready.text
