"""An alternative to ``RpcPool`` for experiments: a few proxies, each driven
by one thread that pipelines its calls with ``call_async``.

Each thread takes every call waiting for it, publishes them all, then
collects the replies (a reply to a later call that arrives first is kept by
the reply listener until asked for).  Same interface as ``RpcPool``.
"""

import asyncio
import contextvars
import queue
import threading

from gateway_falcon import rpc as gateway_rpc
from gateway_falcon.proxy import GatewayMethodProxy, GatewayRpcProxy


class Pipeline(threading.Thread):
    def __init__(self, pool, index):
        super().__init__(name="rpc-pipe-%d" % index, daemon=True)
        self.pool = pool
        self.calls = queue.SimpleQueue()
        self.proxy = None
        self.methods = {}

    def run(self):
        while True:
            first = self.calls.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.pool.depth:
                try:
                    batch.append(self.calls.get_nowait())
                except queue.Empty:
                    break
            self.serve(batch)

    def method(self, service, method):
        key = service, method
        if key not in self.methods:
            self.methods[key] = GatewayMethodProxy(
                self.proxy._worker_ctx, service, method,
                self.proxy._reply_listener, **self.proxy._publish_options)
        return self.methods[key]

    def serve(self, batch):
        pending = []
        for future, ctx, service, method, args, kwargs, context in batch:
            try:
                if self.proxy is None:
                    self.proxy = GatewayRpcProxy(self.pool.config, self.pool.timeout)
                    self.methods = {}
                self.proxy._worker_ctx.data = dict(context)
                reply = ctx.run(self.method(service, method).call_async,
                                *args, **kwargs)
                pending.append((future, reply))
            except Exception as error:  # noqa: BLE001 - handed to the caller
                self.settle(future, error=error)
        for future, reply in pending:
            try:
                self.settle(future, result=reply.result())
            except Exception as error:  # noqa: BLE001
                self.settle(future, error=error)

    def settle(self, future, result=None, error=None):
        if isinstance(error, gateway_rpc.BROKER_ERRORS + (RuntimeError,)):
            if self.proxy is not None:
                try:
                    self.proxy.stop()
                except Exception:  # noqa: BLE001
                    pass
            self.proxy = None
            error = gateway_rpc.BrokerUnavailable(str(error))

        def done():
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)
            self.pool.in_flight -= 1

        self.pool.loop.call_soon_threadsafe(done)


class PipelinedPool:
    def __init__(self, amqp_uri, timeout, size=2, depth=64, queue_limit=512):
        self.amqp_uri = amqp_uri
        self.config = {"AMQP_URI": amqp_uri}
        self.timeout = timeout
        self.size = size
        self.depth = depth
        self.queue_limit = queue_limit
        self.in_flight = 0
        self.next = 0
        self._pinger = gateway_rpc.RpcPool(amqp_uri, timeout, size=1)

    async def start(self):
        self.loop = asyncio.get_running_loop()
        self._pinger._loop = self.loop
        self.pipes = [Pipeline(self, n) for n in range(self.size)]
        for pipe in self.pipes:
            pipe.start()

    async def stop(self):
        for pipe in self.pipes:
            pipe.calls.put(None)

    @property
    def in_use(self):
        return self.in_flight

    async def call(self, service, method, context, *args, **kwargs):
        if self.in_flight >= self.queue_limit:
            raise gateway_rpc.Overloaded()
        future = self.loop.create_future()
        self.in_flight += 1
        pipe = self.pipes[self.next % self.size]
        self.next += 1
        pipe.calls.put((future, contextvars.copy_context(), service, method,
                        args, kwargs, context))
        return await future

    async def ping_broker(self):
        await self._pinger.ping_broker()
