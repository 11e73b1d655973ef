"""What an operator observes, for real: one access line per request (method,
route, status, duration, request id), ``LOG_FORMAT=json`` for every process
with the request id in the service lines of that request, and ``GET /metrics``
of the gateway and the services' own metrics port, where known traffic moves
each number by exactly that much."""
import json
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from support import AIRPORTS_MODULE, create_airport, free_port


@pytest.fixture(scope="module")
def observed(stack_factory):
    """Every process logging JSON lines; the airports service serving its
    metrics on a port of its own."""
    port = free_port()
    service_env = {AIRPORTS_MODULE: {"METRICS_PORT": str(port),
                                     "METRICS_ADDR": "127.0.0.1"}}
    stack = stack_factory(env={"LOG_FORMAT": "json"}, service_env=service_env,
                          RPC_MAX_IN_FLIGHT="4")
    stack.metrics_port = port
    return stack


def scrape(url: str) -> dict:
    """(sample name, sorted labels) -> value."""
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


def test_text_access_line_names_the_route_and_request_id(stack, http):
    request_id = "text-" + uuid.uuid4().hex
    missing = uuid.uuid4().hex
    response = http.get("/airport/" + missing, headers={"X-Request-ID": request_id})
    assert response.status_code == 404
    lines = [line for line in stack.gateway.log().splitlines() if request_id in line]
    access = [line for line in lines if "gateway_falcon.access" in line]
    assert len(access) == 1
    assert access[0].endswith("ms")
    assert "[%s] GET /airport/{record_id} 404 " % request_id in access[0]
    assert missing not in access[0]


def test_known_traffic_moves_gateway_and_service_metrics(observed):
    stack = observed
    service_url = "http://127.0.0.1:%d/metrics" % stack.metrics_port
    gateway_before = scrape(stack.url + "/metrics")
    service_before = scrape(service_url)

    with requests.Session() as http:
        created = [http.post(stack.url + "/airport", json={"airport": "m%d" % i})
                   for i in range(3)]
        ids = [response.json()["id"] for response in created]
        for record_id in ids[:2]:
            assert http.get(stack.url + "/airport/" + record_id).status_code == 200
        assert http.get(stack.url + "/airport/" + uuid.uuid4().hex).status_code == 404
        assert http.get(stack.url + "/airport/not-an-id").status_code == 404
        assert http.get(stack.url + "/airports?limit=2").status_code == 200
        assert http.get(stack.url + "/nowhere").status_code == 404

    gateway = scrape(stack.url + "/metrics")
    service = scrape(service_url)

    def http_moved(route, method, status):
        return moved(gateway_before, gateway, "gateway_http_requests_total",
                     route=route, method=method, status=str(status))

    assert http_moved("/airport", "POST", 201) == 3
    assert http_moved("/airport/{record_id}", "GET", 200) == 2
    assert http_moved("/airport/{record_id}", "GET", 404) == 2
    assert http_moved("/airports", "GET", 200) == 1
    assert http_moved("<unmatched>", "GET", 404) == 1
    assert http_moved("/metrics", "GET", 200) == 1  # the first scrape
    latency = "gateway_http_request_duration_seconds_"
    assert moved(gateway_before, gateway, latency + "count",
                 route="/airport/{record_id}", method="GET") == 4
    assert moved(gateway_before, gateway, latency + "bucket",
                 route="/airport", method="POST", le="+Inf") == 3

    # The malformed id never reaches a service.
    for calls, name in ((gateway_before, "gateway"), (service_before, "service")):
        after = gateway if name == "gateway" else service

        def rpc_moved(metric, calls=calls, after=after, name=name, **labels):
            return moved(calls, after, "%s_rpc_%s" % (name, metric),
                         service="airports_service", **labels)

        assert rpc_moved("calls_total", method="create") == 3
        assert rpc_moved("calls_total", method="get") == 3
        assert rpc_moved("calls_total", method="list") == 1
        assert rpc_moved("errors_total", method="get", error="NotFound") == 1
        assert rpc_moved("errors_total", method="create", error="NotFound") == 0
        assert rpc_moved("duration_seconds_count", method="get") == 3

    assert gateway[("gateway_rpc_in_flight", ())] == 0
    assert gateway[("gateway_rpc_max_in_flight", ())] == 4


def test_json_logs_of_gateway_and_services(observed):
    """Last: it stops the module's stack, to read every line."""
    stack = observed
    ids = {name: "json-%s-%s" % (name, uuid.uuid4().hex) for name in ("a", "b", "t")}
    with stack.session() as http:
        made = [
            create_airport(http, name, headers={"X-Request-ID": ids[name]})["id"]
            for name in ("a", "b")
        ]
        trip = http.post(
            "/trip",
            json={"airport_from": made[0], "airport_to": made[1]},
            headers={"X-Request-ID": ids["t"]},
        )
        assert trip.status_code == 201
        assert trip.headers["X-Request-ID"] == ids["t"]
    stack.stop()  # every line written

    entries = {}
    for process in (stack.gateway, *stack.services):
        lines = process.log().splitlines()
        assert lines, process.name
        entries[process.name] = [json.loads(line) for line in lines]  # every line
        for entry in entries[process.name]:
            assert {"time", "level", "logger", "message", "request_id"} <= set(entry)

    access = [e for e in entries["gateway"] if e["logger"] == "gateway_falcon.access"
              and e["request_id"] == ids["t"]]
    assert len(access) == 1
    assert access[0]["method"] == "POST"
    assert access[0]["route"] == "/trip"
    assert access[0]["path"] == "/trip"
    assert access[0]["status"] == 201
    assert isinstance(access[0]["duration_ms"], float)

    # The trip's request id reaches both services: trips_service.create, and
    # the airports_service.reserve it calls.
    def calls(name):
        return sorted(
            e["message"].split()[1] for e in entries[name]
            if e["request_id"] == ids["t"] and e["message"].startswith("rpc ")
        )

    assert calls("trips_svc-2") == ["trips_service.create"]
    assert calls("airports_svc-1") == ["airports_service.reserve"]
    assert [e["message"].split()[1] for e in entries["airports_svc-1"]
            if e["request_id"] == ids["a"]] == ["airports_service.create"]
