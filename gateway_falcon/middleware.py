"""Per-request context: the request id, and one log line per request."""

import logging
import re
import time
import uuid

from travel_common.call_context import DEADLINE, REQUEST_ID
from travel_common.logs import request_id_var

log = logging.getLogger("gateway_falcon.access")

# A client's X-Request-ID is kept if it is a sane token, else replaced.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


UNMATCHED = "<unmatched>"  # the route of a request that matched none


def rpc_context(req) -> dict:
    """The context data of the RPC calls made for ``req``: its request id and
    deadline (``travel_common.call_context``)."""
    return {REQUEST_ID: req.context.request_id, DEADLINE: req.context.get("deadline")}


class RequestContext:
    """Request id and deadline in, and for each response: ``X-Request-ID``, the
    access log line and the request's metrics (``metrics``, a ``GatewayMetrics``).

    The deadline (epoch seconds) is when the request's RPC calls stop
    waiting: ``rpc_timeout`` after the request arrived."""

    def __init__(self, metrics=None, rpc_timeout: float | None = None):
        self.metrics = metrics
        self.rpc_timeout = rpc_timeout

    async def process_request(self, req, resp):
        given = req.get_header("X-Request-ID")
        request_id = (
            given if given and _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex
        )
        req.context.request_id = request_id
        req.context.started = time.perf_counter()
        if self.rpc_timeout is not None:
            req.context.deadline = time.time() + self.rpc_timeout
        request_id_var.set(request_id)

    async def process_response(self, req, resp, resource, req_succeeded):
        request_id = req.context.get("request_id") or uuid.uuid4().hex
        resp.set_header("X-Request-ID", request_id)
        started = req.context.get("started")
        seconds = time.perf_counter() - started if started else 0.0
        elapsed = seconds * 1000
        # The route (URI template), not the raw path: no client text in the
        # line; the path is a field of its own (escaped in JSON lines).
        route = req.uri_template or UNMATCHED
        log.info(
            "%s %s %s %.1fms",
            req.method,
            route,
            resp.status_code,
            elapsed,
            extra={
                "method": req.method,
                "route": route,
                "path": req.path,
                "status": resp.status_code,
                "duration_ms": round(elapsed, 2),
            },
        )
        if self.metrics is not None:
            self.metrics.observe_request(route, req.method, resp.status_code, seconds)
