"""Failure paths for real: a service stopped or frozen, a corrupt record, Redis
down. On a stack of their own, with a Redis server the tests may stop."""
import signal
import time
import uuid

import pytest

from support import assert_problem, create_airport, wait_until

RPC_TIMEOUT = 2


@pytest.fixture(scope="module")
def fault_stack(stack_factory, redis_server):
    return stack_factory(redis_uri=redis_server.uri, RPC_TIMEOUT=str(RPC_TIMEOUT))


@pytest.fixture(scope="module")
def fault_http(fault_stack):
    with fault_stack.session() as session:
        yield session


def timed(http, method, path, **kwargs):
    started = time.monotonic()
    response = http.request(method, path, **kwargs)
    return response, time.monotonic() - started


def all_names(http) -> list:
    response = http.get("/airports", params={"limit": 100})
    return [record["airport"] for record in response.json()["items"]]


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


def test_unexpected_service_error_is_502(fault_http, redis_server):
    record = create_airport(fault_http, "corrupt")
    with redis_server.client() as client:
        client.delete("airports:rec:" + record["id"])
        client.set("airports:rec:" + record["id"], "not a hash")
        response = fault_http.get("/airport/" + record["id"])
        assert_problem(response, 502, "A service failed to handle the request.")
        client.delete("airports:rec:" + record["id"])


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
