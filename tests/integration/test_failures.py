"""Failure paths for real: a service stopped or frozen, a corrupt record, Redis
down. On a stack of their own, with a Redis server the tests may stop."""
import signal
import time
import uuid

import pytest
import requests

from support import running_stack, wait_until

RPC_TIMEOUT = 2


@pytest.fixture(scope="module")
def fault_stack(redis_server, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("faults"), redis_uri=redis_server.uri,
                       RPC_TIMEOUT=str(RPC_TIMEOUT)) as stack:
        yield stack


def url(stack, path):
    return stack.url + path


def timed(method, *args, **kwargs):
    started = time.monotonic()
    response = requests.request(method, *args, timeout=30, **kwargs)
    return response, time.monotonic() - started


def assert_problem(response, status, detail):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body == {"type": "about:blank", "title": body["title"],
                    "status": status, "detail": detail}


def airport(stack, name) -> dict:
    response = requests.post(url(stack, "/airport"), json={"airport": name})
    assert response.status_code == 201, response.text
    return response.json()


def service_process(stack, prefix):
    return next(p for p in stack.services if p.name.startswith(prefix) and p.running)


def restart(stack, process):
    process.stop()
    stack.services.remove(process)
    stack.add_service(process.argv[-1])
    stack.wait_ready()


def all_names(stack) -> list:
    response = requests.get(url(stack, "/airports"), params={"limit": 100})
    return [record["airport"] for record in response.json()["items"]]


def test_service_not_running_is_fast_503_and_no_ghost_write(fault_stack):
    a, b = airport(fault_stack, "A"), airport(fault_stack, "B")
    trips = service_process(fault_stack, "trips")
    trips.stop()
    try:
        response, elapsed = timed("POST", url(fault_stack, "/trip"),
                                  json={"airport_from": a["id"], "airport_to": b["id"]})
        assert_problem(response, 503, "The service is not running.")
        assert response.headers["Retry-After"] == "1"
        assert elapsed < 1.0
        response, elapsed = timed("GET", url(fault_stack, "/trips"))
        assert_problem(response, 503, "The service is not running.")
        assert elapsed < 1.0
        ready = requests.get(url(fault_stack, "/ready"))
        assert ready.status_code == 503
        assert ready.json()["checks"]["trips_service"] == {
            "status": "down", "detail": "The service is not running."}
    finally:
        restart(fault_stack, trips)
    # The refused create was not carried out when the service came back.
    listed = requests.get(url(fault_stack, "/trips"), params={"airport": a["id"]})
    assert listed.json() == {"items": [], "next": None}


def test_no_reply_in_time_is_504_and_never_carried_out(fault_stack):
    airports = service_process(fault_stack, "airports")
    name = "late-" + uuid.uuid4().hex
    airports.signal(signal.SIGSTOP)  # delivered, never answered in time
    try:
        response, elapsed = timed("POST", url(fault_stack, "/airport"),
                                  json={"airport": name})
    finally:
        airports.signal(signal.SIGCONT)
    assert_problem(response, 504, "The service did not answer in time.")
    assert RPC_TIMEOUT <= elapsed < RPC_TIMEOUT + 1
    # Awake again, the instance sees the call's deadline has passed.
    wait_until(lambda: "not running airports_service.create" in airports.log(), 5,
               what="the late call to be dropped")
    assert name not in all_names(fault_stack)
    assert requests.get(url(fault_stack, "/ready")).status_code == 200


def test_unexpected_service_error_is_502(fault_stack, redis_server):
    import redis

    record = airport(fault_stack, "corrupt")
    client = redis.Redis(port=redis_server.port)
    client.delete("airports:rec:" + record["id"])
    client.set("airports:rec:" + record["id"], "not a hash")
    response = requests.get(url(fault_stack, "/airport/" + record["id"]))
    assert_problem(response, 502, "A service failed to handle the request.")
    client.delete("airports:rec:" + record["id"])


def test_redis_down_is_503_then_recovers(fault_stack, redis_server):
    before = airport(fault_stack, "before-outage")
    redis_server.stop()
    try:
        response, elapsed = timed("POST", url(fault_stack, "/airport"),
                                  json={"airport": "during-outage"})
        assert_problem(response, 503, "The data store is unavailable.")
        assert response.headers["Retry-After"] == "1"
        assert elapsed < RPC_TIMEOUT
        response = requests.get(url(fault_stack, "/airport/" + before["id"]))
        assert_problem(response, 503, "The data store is unavailable.")
        ready = requests.get(url(fault_stack, "/ready"))
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"] == {
            "status": "down", "detail": "The data store is unavailable."}
    finally:
        redis_server.start()
    # No process restarted by hand: the services reconnect by themselves.
    wait_until(fault_stack.ready, 10, interval=0.2, what="recovery")
    assert requests.get(url(fault_stack, "/airport/" + before["id"])).json() == before
    assert airport(fault_stack, "after-outage")["airport"] == "after-outage"
    assert "during-outage" not in all_names(fault_stack)


def test_call_stuck_in_a_dead_instance_is_never_carried_out(fault_stack):
    """A call delivered to an instance that then dies is not run by the next
    instance to start: the broker drops it with the instance's queue."""
    airports = service_process(fault_stack, "airports")
    name = "orphan-" + uuid.uuid4().hex
    airports.signal(signal.SIGSTOP)
    response, _ = timed("POST", url(fault_stack, "/airport"), json={"airport": name})
    assert response.status_code == 504
    airports.kill()  # its unacked call goes back to a queue nobody consumes
    fault_stack.services.remove(airports)
    fault_stack.add_service("airports_svc.service")
    fault_stack.wait_ready()
    time.sleep(1)
    assert name not in all_names(fault_stack)
