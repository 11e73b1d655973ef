"""``GET /metrics`` of the gateway and the services' own metrics port, for real:
known traffic moves each number by exactly that much."""
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from support import AIRPORTS_MODULE, free_port


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


@pytest.fixture(scope="module")
def metrics_stack(stack_factory):
    """The airports service serves its metrics on a port of its own."""
    port = free_port()
    service_env = {AIRPORTS_MODULE: {"METRICS_PORT": str(port),
                                     "METRICS_ADDR": "127.0.0.1"}}
    stack = stack_factory(service_env=service_env, RPC_MAX_IN_FLIGHT="4")
    stack.metrics_port = port
    return stack


def test_known_traffic_moves_gateway_and_service_metrics(metrics_stack):
    stack = metrics_stack
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
