"""Failure paths for real: a service stopped or frozen, a corrupt record, Redis
down, the broker gone.  On a stack of the module's own, with a Redis server
the tests may stop and a vhost the last test deletes.  Every error answer
leaks nothing of the system; its details are in the logs, under the request
id.  (The client errors, which need no service: ``tests/unit/test_http_api.py``.)"""
import signal
import time
import uuid

import pytest

from support import assert_problem, create_airport, leaks, rabbitmqctl, wait_until

RPC_TIMEOUT = 2


UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def fault_stack(stack_factory, redis_server):
    return stack_factory(redis_uri=redis_server.uri, RPC_TIMEOUT=str(RPC_TIMEOUT))


@pytest.fixture(scope="module")
def fault_http(fault_stack):
    with fault_stack.session() as session:
        yield session


@pytest.fixture(scope="module")
def redis_client(redis_server):
    client = redis_server.client()
    yield client
    client.close()


def timed(http, method, path, **kwargs):
    started = time.monotonic()
    response = http.request(method, path, **kwargs)
    return response, time.monotonic() - started


def all_names(http) -> list:
    response = http.get("/airports", params={"limit": 100})
    return [record["airport"] for record in response.json()["items"]]


def call(http, method, path, request_id=None, **kwargs):
    headers = kwargs.pop("headers", {})
    headers["X-Request-ID"] = request_id or "sec-" + uuid.uuid4().hex
    return http.request(method, path, headers=headers, timeout=15, **kwargs)


def test_service_not_running_is_fast_503_and_no_ghost_write(fault_stack, fault_http):
    a, b = (create_airport(fault_http, name) for name in "AB")
    (trips,) = fault_stack.running("trips")
    trips.stop()
    try:
        response, elapsed = timed(fault_http, "POST", "/trip",
                                  json={"airport_from": a["id"], "airport_to": b["id"]})
        assert_problem(response, 503, "The service is not running.")
        assert response.headers["Retry-After"] == "1"
        assert elapsed < 1.0
        response, elapsed = timed(fault_http, "GET", "/trips")
        assert_problem(response, 503, "The service is not running.")
        assert elapsed < 1.0
        ready = fault_http.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["trips_service"] == {
            "status": "down", "detail": "The service is not running."}
    finally:
        fault_stack.replace(trips)
        fault_stack.wait_ready()
    # The refused create was not carried out when the service came back.
    listed = fault_http.get("/trips", params={"airport": a["id"]})
    assert listed.json() == {"items": [], "next": None}


def test_no_reply_in_time_is_504_and_never_carried_out(fault_stack, fault_http):
    (airports,) = fault_stack.running("airports")
    name = "late-" + uuid.uuid4().hex
    airports.signal(signal.SIGSTOP)  # delivered, never answered in time
    try:
        response, elapsed = timed(fault_http, "POST", "/airport",
                                  json={"airport": name})
    finally:
        airports.signal(signal.SIGCONT)
    assert_problem(response, 504, "The service did not answer in time.")
    assert RPC_TIMEOUT <= elapsed < RPC_TIMEOUT + 1
    # Awake again, the instance sees the call's deadline has passed.
    wait_until(lambda: "not running airports_service.create" in airports.log(), 5,
               what="the late call to be dropped")
    assert name not in all_names(fault_http)
    assert fault_http.get("/ready").status_code == 200


def test_unexpected_service_error_is_502(fault_http, redis_client):
    record = create_airport(fault_http, "corrupt")
    redis_client.delete("airports:rec:" + record["id"])
    redis_client.set("airports:rec:" + record["id"], "not a hash")
    response = fault_http.get("/airport/" + record["id"])
    assert_problem(response, 502, "A service failed to handle the request.")
    redis_client.delete("airports:rec:" + record["id"])


def test_redis_down_is_503_then_recovers(fault_stack, fault_http, redis_server):
    before = create_airport(fault_http, "before-outage")
    redis_server.stop()
    try:
        response, elapsed = timed(fault_http, "POST", "/airport",
                                  json={"airport": "during-outage"})
        assert_problem(response, 503, "The data store is unavailable.")
        assert response.headers["Retry-After"] == "1"
        assert elapsed < RPC_TIMEOUT
        response = fault_http.get("/airport/" + before["id"])
        assert_problem(response, 503, "The data store is unavailable.")
        ready = fault_http.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"] == {
            "status": "down", "detail": "The data store is unavailable."}
    finally:
        redis_server.start()
    # No process restarted by hand: the services reconnect by themselves.
    wait_until(fault_stack.ready, 10, interval=0.2, what="recovery")
    assert fault_http.get("/airport/" + before["id"]).json() == before
    assert create_airport(fault_http, "after-outage")["airport"] == "after-outage"
    assert "during-outage" not in all_names(fault_http)


def test_call_stuck_in_a_dead_instance_is_never_carried_out(fault_stack, fault_http):
    """A call delivered to an instance that then dies is not run by the next
    instance to start: the broker drops it with the instance's queue."""
    (airports,) = fault_stack.running("airports")
    name = "orphan-" + uuid.uuid4().hex
    airports.signal(signal.SIGSTOP)
    response, _ = timed(fault_http, "POST", "/airport", json={"airport": name})
    assert response.status_code == 504
    # kill -9: its unacked call goes back to a queue nobody consumes
    fault_stack.replace(airports, kill=True)
    fault_stack.wait_ready()
    time.sleep(1)
    assert name not in all_names(fault_http)


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
