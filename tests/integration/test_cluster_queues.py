"""Quorum request queues on the session's three-node cluster: the queues
are what they should be, and a service with no running instance is still
a 503 within a second (the consumer watch) for the gateway and for the
trips service's calls to the airports service, with no ghost write."""

import contextlib
import time

import pytest
import requests

from travel_common.consumer_watch import LAG

from support import create_airport, wait_until
from support.cluster import cluster_stack

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def quorum_stack(rabbit_cluster, tmp_path_factory):
    with cluster_stack(rabbit_cluster, tmp_path_factory.mktemp("quorum")) as stack:
        yield stack


def timed_post(url: str, body: dict):
    started = time.monotonic()
    response = requests.post(url, json=body, timeout=30)
    return response, time.monotonic() - started


def restart(stack, process):
    process.stop()
    stack.services.remove(process)
    stack.add_service(process.argv[-1])
    stack.wait_ready()


def service_process(stack, prefix):
    return next(p for p in stack.services if p.name.startswith(prefix))


def test_request_queues_are_quorum_and_reply_queues_exclusive(rabbit_cluster,
                                                             quorum_stack):
    out = rabbit_cluster.ctl("list_queues", "-p", quorum_stack.vhost,
                             "--no-table-headers", "name", "type", "durable",
                             "exclusive", "members")
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}
    for service in ("airports_service", "trips_service"):
        kind, durable, _, members = rows.pop("rpc-" + service)
        assert (kind, durable) == ("quorum", "true")
        assert members.count("@") == 3  # a replica on every node
    # what is left: the reply queues of the gateway and of the trips service
    assert {name.split("-")[1] for name in rows} == {"gateway", "trips_service"}
    assert all(exclusive == "true" for _, _, exclusive, _ in rows.values()), rows


@contextlib.contextmanager
def stopped(stack, role: str):
    """``role``'s instance stopped, for as long as the block runs, and the
    consumer watches sure of it; started again after."""
    process = service_process(stack, role)
    process.stop()
    try:
        time.sleep(LAG)
        yield
    finally:
        restart(stack, process)


def new_airports(stack, *names: str) -> list:
    with stack.session() as http:
        return [create_airport(http, name)["id"] for name in names]


def test_service_not_running_is_fast_503_and_no_ghost_write(quorum_stack):
    url = quorum_stack.url
    a, b = new_airports(quorum_stack, "A", "B")
    with stopped(quorum_stack, "trips"):
        response, elapsed = timed_post(url + "/trip",
                                       {"airport_from": a, "airport_to": b})
        assert response.status_code == 503, response.text
        assert response.json()["detail"] == "The service is not running."
        assert elapsed < 1.0
        ready = requests.get(url + "/ready").json()
        assert ready["checks"]["trips_service"]["status"] == "down"
    time.sleep(1)  # a request left in the quorum queue would have run by now
    listed = requests.get(url + "/trips", params={"airport": a}).json()
    assert listed == {"items": [], "next": None}


def test_dependency_not_running_is_fast_503_for_the_calling_service(quorum_stack):
    """The trips service's own calls to the airports service fail fast too."""
    url = quorum_stack.url
    a, b = new_airports(quorum_stack, "C", "D")
    with stopped(quorum_stack, "airports"):
        response, elapsed = timed_post(url + "/trip",
                                       {"airport_from": a, "airport_to": b})
        assert response.status_code == 503, response.text
        assert response.json()["detail"] == (
            "A service needed for this request is unavailable.")
        assert elapsed < 1.0
    wait_until(lambda: requests.post(url + "/trip", json={
        "airport_from": a, "airport_to": b}).status_code == 201, 10,
        what="trips created again")
