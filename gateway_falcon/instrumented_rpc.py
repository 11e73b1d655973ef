"""The RPC client as the app uses it: every call counted and timed in the
gateway's metrics (``gateway_falcon.metrics``)."""

import time


class InstrumentedRpc:
    """An RPC client whose calls are counted and timed; all else is the
    client's own."""

    def __init__(self, rpc, metrics):
        """``metrics``: the app's ``GatewayMetrics``."""
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
