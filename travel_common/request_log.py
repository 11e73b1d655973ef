"""``RequestLog``: puts the caller's request id into the log context of each
worker and logs one line per call."""

import logging
import time

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc

from travel_common.call_context import DEADLINE, REQUEST_ID
from travel_common.errors import TravelError
from travel_common.logs import request_id_var

log = logging.getLogger(__name__)


class RequestLog(DependencyProvider):
    """Request id in every log line of a call, and one line per RPC call."""

    def worker_setup(self, worker_ctx):
        request_id_var.set(worker_ctx.data.get(REQUEST_ID, "-"))
        worker_ctx.started = time.perf_counter()
        worker_ctx.started_at = time.time()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if not isinstance(worker_ctx.entrypoint, Rpc):
            return  # a timer's round: it logs what it does itself
        elapsed = (time.perf_counter() - worker_ctx.started) * 1000
        outcome = "ok"
        if exc_info is not None:
            error = exc_info[0]
            outcome = error.__name__ if issubclass(error, TravelError) else "error"
        log.info(
            "rpc %s.%s %s %.1fms",
            worker_ctx.service_name,
            worker_ctx.entrypoint.method_name,
            outcome,
            elapsed,
            extra={
                "rpc_outcome": outcome,
                "duration_ms": round(elapsed, 2),
                # epoch seconds: when the call started, and its caller's deadline
                "started": round(worker_ctx.started_at, 3),
                "deadline": worker_ctx.data.get(DEADLINE),
            },
        )

    def get_dependency(self, worker_ctx):
        return None
