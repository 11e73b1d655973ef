"""Error hygiene on the faults: every error path a service, Redis or the broker
takes, provoked for real, on a stack with its own Redis server; answers carry
no internals, and the details are in the logs under the request id.  (The
client errors, which need no service: ``tests/unit/test_http_api.py``.)"""
import time
import uuid

import pytest

from support import assert_problem, create_airport, leaks, rabbitmqctl, wait_until

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def fault_stack(stack_factory, redis_server):
    """On a vhost of its own (a test deletes it, as if the broker were gone)."""
    return stack_factory(redis_uri=redis_server.uri, RPC_TIMEOUT="2")


@pytest.fixture(scope="module")
def redis_client(redis_server):
    client = redis_server.client()
    yield client
    client.close()


@pytest.fixture(scope="module")
def fault_http(fault_stack):
    with fault_stack.session() as session:
        yield session


def call(http, method, path, request_id=None, **kwargs):
    headers = kwargs.pop("headers", {})
    headers["X-Request-ID"] = request_id or "sec-" + uuid.uuid4().hex
    return http.request(method, path, headers=headers, timeout=15, **kwargs)


def test_unexpected_service_error_is_a_bare_502(fault_stack, fault_http, redis_client):
    record_id = create_airport(fault_http)["id"]
    redis_client.delete("airports:rec:" + record_id)
    redis_client.set("airports:rec:" + record_id, "x")  # HGETALL: WRONGTYPE
    request_id = "broken-" + uuid.uuid4().hex
    response = call(fault_http, "GET", "/airport/" + record_id, request_id)
    assert_problem(response, 502, "A service failed to handle the request.")
    assert response.headers["X-Request-ID"] == request_id
    assert_problem(call(fault_http, "GET", "/airports?limit=100"), 502)
    # The details, in the logs, under the request id.
    gateway_lines = [line for line in fault_stack.gateway.log().splitlines()
                     if request_id in line]
    assert any("rpc failed" in line and "WRONGTYPE" in line
               for line in gateway_lines), gateway_lines
    service_log = fault_stack.services_log()
    assert request_id in service_log
    trace = service_log[service_log.index(request_id):]
    assert "Traceback" in trace and "WRONGTYPE" in trace
    assert call(fault_http, "DELETE", "/airport/" + record_id).status_code == 204


def test_redis_down_is_a_503_without_details(fault_stack, fault_http, redis_server):
    record_id = create_airport(fault_http)["id"]
    redis_server.stop()
    try:
        request_id = "noredis-" + uuid.uuid4().hex
        response = call(fault_http, "POST", "/airport", request_id,
                        json={"airport": "Nice"})
        assert_problem(response, 503, "The data store is unavailable.")
        assert response.headers["Retry-After"] == "1"
        assert_problem(call(fault_http, "GET", "/airport/" + record_id), 503)
        assert_problem(call(fault_http, "GET", "/airports"), 503)
        ready = call(fault_http, "GET", "/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"]["status"] == "down"
        # /ready names its dependencies, but nothing more.
        assert leaks(ready.text.replace('"redis"', '"store"')) == [], ready.text
        assert request_id in fault_stack.services_log()
    finally:
        redis_server.start()
    wait_until(
        lambda: call(fault_http, "GET", "/airport/" + record_id).status_code == 200,
        20, interval=0.2, what="the stack to see Redis again",
    )


def test_service_not_running_is_a_503_without_details(fault_stack, fault_http):
    (airports,) = fault_stack.running("airports")
    trip_ends = [create_airport(fault_http, name)["id"] for name in "AB"]
    airports.stop()
    try:
        started = time.monotonic()
        response = call(fault_http, "GET", "/airport/" + trip_ends[0])
        assert time.monotonic() - started < 1
        assert_problem(response, 503, "The service is not running.")
        assert response.headers["Retry-After"] == "1"
        # trips is up, but the airports service it calls is not.
        trip = call(fault_http, "POST", "/trip",
                    json={"airport_from": trip_ends[0], "airport_to": trip_ends[1]})
        assert_problem(trip, 503)
        assert trip.headers["Retry-After"] == "1"
    finally:
        airports.start()
    fault_stack.wait_ready()


def test_broker_gone_is_a_503_without_details(fault_stack, fault_http):
    """Last: the services stop and the stack's vhost is deleted under the
    gateway; its proxies can neither call nor reconnect."""
    for process in fault_stack.services:
        process.stop()
    rabbitmqctl("delete_vhost", fault_stack.vhost.name)
    for path in ("/airport/" + UNKNOWN_ID, "/airports", "/trips"):
        started = time.monotonic()
        response = call(fault_http, "GET", path)
        assert time.monotonic() - started < 3
        assert_problem(response, 503)
        assert response.headers["Retry-After"] == "1"
    ready = call(fault_http, "GET", "/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["rabbitmq"]["status"] == "down"
    assert leaks(ready.text.replace('"redis"', '"store"')) == [], ready.text
