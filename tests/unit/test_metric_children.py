"""Labelled metric children, made once per label combination."""
from prometheus_client import generate_latest

from gateway_falcon.metrics import GatewayMetrics
from travel_common.metric_children import LabelledChildren


def test_children_are_made_once_per_labels():
    made = []
    children = LabelledChildren(lambda *labels: made.append(labels) or labels)
    assert children("a", 1) == ("a", 1)
    assert children("a", 1) == ("a", 1)
    assert children("b", 1) == ("b", 1)
    assert made == [("a", 1), ("b", 1)]


def test_gateway_metrics_count_each_labelled_observation():
    metrics = GatewayMetrics()
    for status in (200, 200, 404):
        metrics.observe_request("/airport/{record_id}", "GET", status, 0.002)
    metrics.observe_rpc("airports_service", "get", 0.001, KeyError("x"))
    text = generate_latest(metrics.registry).decode()
    assert ('gateway_http_requests_total{method="GET",route="/airport/{record_id}",'
            'status="200"} 2.0') in text
    assert ('gateway_http_request_duration_seconds_count{method="GET",'
            'route="/airport/{record_id}"} 3.0') in text
    assert ('gateway_rpc_errors_total{error="KeyError",method="get",'
            'service="airports_service"} 1.0') in text
