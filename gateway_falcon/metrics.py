"""The gateway's Prometheus metrics, served by ``GET /metrics``.

- ``gateway_http_requests_total{route, method, status}`` and the latency
  histogram ``gateway_http_request_duration_seconds{route, method}``: ``route``
  is the URI template (``/airport/{record_id}``), never the raw path.
- ``gateway_rpc_calls_total`` / ``gateway_rpc_errors_total{error}`` and the
  histogram ``gateway_rpc_duration_seconds``, by service and method.
- ``gateway_rpc_in_flight`` and its limit ``gateway_rpc_max_in_flight``, read
  at scrape time only.

The hot path stays cheap (``travel_common.metric_children``): a request
costs a dict lookup, an ``inc`` and an ``observe``.  The app counts its RPC
calls through ``gateway_falcon.instrumented_rpc``; ``GET /metrics`` is
``gateway_falcon.resources.metrics``.
"""

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from travel_common.metric_children import LabelledChildren

HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class GatewayMetrics:
    """The gateway's metrics, in a registry of their own (one per app)."""

    def __init__(self, rpc=None):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests", "HTTP requests answered.",
            ("route", "method", "status"), registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time from receiving a request to its response.",
            ("route", "method"), buckets=HTTP_BUCKETS, registry=self.registry,
        )
        self.rpc_calls = Counter(
            "gateway_rpc_calls", "RPC calls made.",
            ("service", "method"), registry=self.registry,
        )
        self.rpc_errors = Counter(
            "gateway_rpc_errors", "RPC calls that raised, by exception type.",
            ("service", "method", "error"), registry=self.registry,
        )
        self.rpc_latency = Histogram(
            "gateway_rpc_duration_seconds", "RPC call time, waiting included.",
            ("service", "method"), buckets=HTTP_BUCKETS, registry=self.registry,
        )
        self._http = LabelledChildren(
            lambda route, method, status: (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        )
        self._rpc = LabelledChildren(
            lambda service, method: (
                self.rpc_calls.labels(service, method),
                self.rpc_latency.labels(service, method),
            )
        )
        if rpc is not None:
            in_flight = Gauge(
                "gateway_rpc_in_flight", "RPC calls waiting for their reply.",
                registry=self.registry,
            )
            in_flight.set_function(lambda: rpc.in_flight)
            limit = Gauge(
                "gateway_rpc_max_in_flight", "RPC calls allowed out at once.",
                registry=self.registry,
            )
            limit.set_function(lambda: rpc.max_in_flight)

    def observe_request(self, route: str, method: str, status: int, seconds: float):
        requests, latency = self._http(route, method, status)
        requests.inc()
        latency.observe(seconds)

    def observe_rpc(self, service: str, method: str, seconds: float, error=None):
        calls, latency = self._rpc(service, method)
        calls.inc()
        latency.observe(seconds)
        if error is not None:
            self.rpc_errors.labels(service, method, type(error).__name__).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


# app.py imports these from here until it takes them from their own modules.
from gateway_falcon.instrumented_rpc import InstrumentedRpc  # noqa: E402, F401
from gateway_falcon.resources.metrics import Metrics  # noqa: E402, F401
