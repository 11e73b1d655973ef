"""The gateway's Prometheus metrics, served by ``GET /metrics``.

- ``gateway_http_requests_total{route, method, status}`` and the latency
  histogram ``gateway_http_request_duration_seconds{route, method}``: ``route``
  is the URI template (``/airport/{record_id}``), never the raw path.
- ``gateway_rpc_calls_total`` / ``gateway_rpc_errors_total{error}`` and the
  histogram ``gateway_rpc_duration_seconds``, by service and method.
- ``gateway_rpc_in_flight`` and its limit ``gateway_rpc_max_in_flight``, read
  at scrape time only.

The hot path stays cheap: each label combination's children are looked up
once and then kept in a dict, so a request costs a dict lookup, an ``inc``
and an ``observe``.
"""

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from gateway_falcon.openapi import get_operation

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
        self._http = {}
        self._rpc = {}
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
        key = (route, method, status)
        children = self._http.get(key)
        if children is None:
            children = self._http[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_rpc(self, service: str, method: str, seconds: float, error=None):
        key = (service, method)
        children = self._rpc.get(key)
        if children is None:
            children = self._rpc[key] = (
                self.rpc_calls.labels(service, method),
                self.rpc_latency.labels(service, method),
            )
        children[0].inc()
        children[1].observe(seconds)
        if error is not None:
            self.rpc_errors.labels(service, method, type(error).__name__).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class InstrumentedRpc:
    """An RPC pool whose calls are counted and timed; all else is the pool's."""

    def __init__(self, rpc, metrics: GatewayMetrics):
        self._rpc = rpc
        self._metrics = metrics

    def __getattr__(self, name):
        return getattr(self._rpc, name)

    async def call(self, service: str, method: str, context: dict, *args, **kwargs):
        started, error = time.perf_counter(), None
        try:
            return await self._rpc.call(service, method, context, *args, **kwargs)
        except Exception as raised:
            error = raised
            raise
        finally:
            elapsed = time.perf_counter() - started
            self._metrics.observe_rpc(service, method, elapsed, error)


class Metrics:
    """``GET /metrics``: Prometheus text format."""

    def __init__(self, metrics: GatewayMetrics):
        self.metrics = metrics

    @staticmethod
    def openapi() -> dict:
        return get_operation(
            "Prometheus metrics of the gateway",
            "Prometheus text exposition format",
            "text/plain",
        )

    async def on_get(self, req, resp):
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self.metrics.exposition()
