"""RabbitMQ and Redis going away under load, and coming back: fast 503s
meanwhile, and recovery by itself. On a broker node and a Redis server of
this module's own, so that no other run is disturbed."""
import time

import pytest
import requests

from support import LoadLoop, RabbitNode, running_stack, wait_until

RPC_TIMEOUT = 2
RECOVERY_LIMIT = 15  # seconds from the dependency being back to normal answers
CLIENTS = 4


@pytest.fixture(scope="module")
def node():
    node = RabbitNode()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def outage_stack(node, redis_server, tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("outages"), node.uri,
                       redis_server.uri, RPC_TIMEOUT=str(RPC_TIMEOUT)) as stack:
        yield stack


@pytest.fixture
def trip_load(outage_stack):
    """A load loop creating trips: gateway, both services, Redis, all involved."""
    url = outage_stack.url
    a = requests.post(url + "/airport", json={"airport": "A"}).json()["id"]
    b = requests.post(url + "/airport", json={"airport": "B"}).json()["id"]

    def request(session):
        return session.post(url + "/trip", timeout=30,
                            json={"airport_from": a, "airport_to": b})

    return request


def outage(load, stop, start, pause=3.0) -> dict:
    """Stop a dependency under load, start it again; what the clients saw."""
    wait_until(lambda: 201 in load.statuses(), 10, what="normal answers first")
    stop()
    down = time.monotonic()
    time.sleep(pause)
    during = load.since(down)
    start()
    back = time.monotonic()
    # Recovered when the first normal answer came back; requests sent before
    # that may still fail (the two services reconnect one after the other).
    recovered = wait_until(
        lambda: next((t + d for t, s, d in load.since(back) if s == 201), None),
        RECOVERY_LIMIT + 5, interval=0.1, what="normal answers again")
    time.sleep(1)  # and they stay normal
    after = load.since(recovered)
    print("outage: %d answers while down, back to normal %.1fs after the "
          "dependency" % (len(during), recovered - back))
    return {"during": during, "recovery": recovered - back, "after": after}


def assert_fast_503s(outcomes, unknown_allowed=0):
    """Fast 503s, never a wait until RPC_TIMEOUT.  A call in flight when the
    broker connection broke has an unknown outcome: 504 (at most
    ``unknown_allowed``), as fast."""
    failures = [(s, d) for _, s, d in outcomes if s != 201]
    assert failures, "the outage was not seen"
    assert {s for s, _ in failures} <= {503, 504}
    assert 503 in {s for s, _ in failures}
    assert sum(1 for s, _ in failures if s == 504) <= unknown_allowed
    assert max(d for _, d in failures) < RPC_TIMEOUT  # never hangs until timeout


def test_broker_stop_app_and_back(node, trip_load):
    with LoadLoop(trip_load, threads=CLIENTS) as load:
        seen = outage(load, lambda: node.ctl("stop_app"), lambda: node.ctl("start_app"))
    assert_fast_503s(seen["during"], unknown_allowed=CLIENTS)
    assert seen["recovery"] < RECOVERY_LIMIT
    assert LoadLoop.statuses(load, seen["after"]) == {201}


def test_broker_closes_all_connections(node, trip_load):
    def close_all():
        node.ctl("close_all_connections", "test: dropped connections")

    with LoadLoop(trip_load, threads=CLIENTS) as load:
        seen = outage(load, close_all, lambda: None, pause=1.0)
    assert seen["recovery"] < RECOVERY_LIMIT
    assert LoadLoop.statuses(load, seen["after"]) == {201}


def test_redis_stop_and_back(redis_server, trip_load, outage_stack):
    with LoadLoop(trip_load, threads=CLIENTS) as load:
        seen = outage(load, redis_server.stop, redis_server.start)
    assert_fast_503s(seen["during"])
    assert seen["recovery"] < RECOVERY_LIMIT
    assert LoadLoop.statuses(load, seen["after"]) == {201}
    assert outage_stack.ready()


def test_broker_memory_alarm_and_back(node, trip_load):
    """A resource alarm: RabbitMQ blocks a connection when it next publishes,
    and tells it (connection.blocked).  The calls handed over by then wait
    for RPC_TIMEOUT (504); from then on, requests get fast 503s."""

    def alarm():
        node.ctl("set_vm_memory_high_watermark", "absolute", "1")

    def clear():
        node.ctl("set_vm_memory_high_watermark", "0.4")

    with LoadLoop(trip_load, threads=CLIENTS) as load:
        seen = outage(load, alarm, clear, pause=3 * RPC_TIMEOUT)
    failures = [(s, d) for _, s, d in seen["during"] if s != 201]
    assert {s for s, _ in failures} <= {503, 504}
    assert max(d for s, d in failures if s == 503) < 0.5
    assert sum(1 for s, _ in failures if s == 504) <= 4  # one per client at most
    assert sum(1 for s, _ in failures if s == 503) > 10
    assert seen["recovery"] < RECOVERY_LIMIT
    assert LoadLoop.statuses(load, seen["after"]) == {201}


def test_ready_tells_a_broker_that_does_not_route(node, outage_stack):
    """``/ready`` sends a message round trip through RabbitMQ: a broker that
    takes the connection but routes nothing (here: a memory alarm, it blocks
    publishers) is "down" there, within its 2 s bound."""
    url = outage_stack.url + "/ready"
    node.ctl("set_vm_memory_high_watermark", "absolute", "1")
    try:
        started = time.monotonic()
        (response,) = wait_until(
            lambda: [r for r in [requests.get(url, timeout=10)]
                     if r.status_code == 503],
            10, interval=0.2, what="/ready 503")
        assert time.monotonic() - started < 5
        assert response.json()["checks"]["rabbitmq"] == {
            "status": "down",
            "detail": "RabbitMQ is unreachable or does not route messages."}
    finally:
        node.ctl("set_vm_memory_high_watermark", "0.4")
    wait_until(outage_stack.ready, RECOVERY_LIMIT, interval=0.2, what="ready again")
