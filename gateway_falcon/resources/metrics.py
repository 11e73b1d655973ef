"""``GET /metrics``: the gateway's metrics, in Prometheus text format."""

from prometheus_client import CONTENT_TYPE_LATEST

from gateway_falcon.openapi import get_operation


class Metrics:
    """``GET /metrics``: ``metrics`` is the app's ``GatewayMetrics``."""

    def __init__(self, metrics):
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
