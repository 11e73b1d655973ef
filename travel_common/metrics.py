"""A service's own RPC metrics, for Prometheus.

``RpcMetrics`` counts and times every call a service instance handles:
``service_rpc_calls_total``, ``service_rpc_errors_total{error}`` and the
histogram ``service_rpc_duration_seconds``, by service and method. The
config's ``METRICS_PORT`` (0: off) is where the process serves them, over
prometheus_client's HTTP server; several services in one process share it.
"""

import logging
import time

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from travel_common.metric_children import LabelledChildren

log = logging.getLogger(__name__)

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

REGISTRY = CollectorRegistry()
CALLS = Counter(
    "service_rpc_calls", "RPC calls handled.", ("service", "method"),
    registry=REGISTRY,
)
ERRORS = Counter(
    "service_rpc_errors", "RPC calls that raised, by exception type.",
    ("service", "method", "error"), registry=REGISTRY,
)
LATENCY = Histogram(
    "service_rpc_duration_seconds", "Time to handle an RPC call.",
    ("service", "method"), buckets=BUCKETS, registry=REGISTRY,
)


class MetricsServer:
    """The process's one metrics server, open while some service uses it."""

    users = 0
    server = None

    @classmethod
    def acquire(cls, port: int, addr: str) -> None:
        cls.users += 1
        if cls.server is None and cls.users == 1:
            try:
                cls.server, _ = start_http_server(port, addr, registry=REGISTRY)
            except OSError as error:
                log.error("metrics not served on port %d: %s", port, error)
            else:
                log.info("metrics on http://%s:%d/metrics", addr or "*", port)

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.server is not None:
            server, cls.server = cls.server, None
            server.shutdown()
            server.server_close()


class RpcMetrics(DependencyProvider):
    def setup(self):
        config = self.container.config
        self.port = int(config.get("METRICS_PORT") or 0)
        self.addr = str(config.get("METRICS_ADDR") or "127.0.0.1")
        self._children = LabelledChildren(
            lambda service, method: (
                CALLS.labels(service, method),
                LATENCY.labels(service, method),
            )
        )
        self._serving = False

    def start(self):
        if self.port and not self._serving:
            self._serving = True
            MetricsServer.acquire(self.port, self.addr)

    def stop(self):
        if self._serving:
            self._serving = False
            MetricsServer.release()

    kill = stop

    def worker_setup(self, worker_ctx):
        worker_ctx.metrics_started = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if not isinstance(worker_ctx.entrypoint, Rpc):
            return  # a timer's round is no call
        elapsed = time.perf_counter() - worker_ctx.metrics_started
        service, method = worker_ctx.service_name, worker_ctx.entrypoint.method_name
        calls, latency = self._children(service, method)
        calls.inc()
        latency.observe(elapsed)
        if exc_info is not None:
            ERRORS.labels(service, method, exc_info[0].__name__).inc()

    def get_dependency(self, worker_ctx):
        return None
