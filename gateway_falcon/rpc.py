"""The gateway's RPC client: a fixed pool of long-lived proxies.

Each ``GatewayRpcProxy`` blocks while it waits for its reply, so calls run on
a thread pool with one thread per proxy and the event loop never blocks.  A
request waits for a free proxy only while fewer than ``queue_limit`` others
do, and for at most ``acquire_timeout``; past that it fails at once with
``Overloaded``, so that overload gives fast 503s instead of a growing queue.
A proxy whose connection broke is thrown away and rebuilt on its next use.
"""

import asyncio
import contextvars
import logging
from concurrent.futures import ThreadPoolExecutor

from kombu import Connection

from gateway_falcon.proxy import GatewayRpcProxy
from travel_common.broker import BROKER_ERRORS

log = logging.getLogger(__name__)

class BrokerUnavailable(Exception):
    """RabbitMQ can't be reached (or the connection broke during the call)."""


class Overloaded(Exception):
    """Too many requests are already waiting for a proxy."""


class ProxySlot:
    """One proxy, used by one thread at a time, connected on first use."""

    def __init__(self, config: dict, timeout: float):
        self.config = config
        self.timeout = timeout
        self.proxy = None

    def call(self, service, method, args, kwargs, context):
        try:
            if self.proxy is None:
                self.proxy = GatewayRpcProxy(self.config, self.timeout)
            return self.proxy.call(service, method, args, kwargs, context)
        except BROKER_ERRORS as error:
            self.close()
            raise BrokerUnavailable(str(error)) from None
        except RuntimeError as error:  # nameko: "consumer has been disconnected"
            self.close()
            raise BrokerUnavailable(str(error)) from None

    def close(self):
        proxy, self.proxy = self.proxy, None
        if proxy is not None:
            try:
                proxy.stop()
            except Exception:  # the connection is already gone
                log.debug("closing a broken proxy failed", exc_info=True)


class RpcPool:
    def __init__(
        self,
        amqp_uri: str,
        timeout: float,
        size: int = 16,
        queue_limit: int = 128,
        acquire_timeout: float | None = None,
    ):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.size = size
        self.queue_limit = queue_limit
        # By default a request waits for a proxy as long as for a reply: a
        # moment of slowness (an instance dying, its calls redelivered) must
        # not fail the requests queued behind it; the queue's length, not
        # the wait, is what sheds overload.
        self.acquire_timeout = timeout if acquire_timeout is None else acquire_timeout
        self._config = {"AMQP_URI": amqp_uri}
        self._free = None
        self._waiting = 0
        self._executor = None
        self._slots = []

    async def start(self):
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="rpc")
        self._slots = [ProxySlot(self._config, self.timeout) for _ in range(self.size)]
        self._free = asyncio.Queue()
        for slot in self._slots:
            self._free.put_nowait(slot)

    async def stop(self):
        if self._executor is None:
            return
        for slot in self._slots:
            await self._loop.run_in_executor(self._executor, slot.close)
        self._executor.shutdown(wait=True)
        self._executor = None

    @property
    def in_use(self) -> int:
        return self.size - self._free.qsize() if self._free else 0

    async def call(self, service: str, method: str, context: dict, *args, **kwargs):
        """Call ``service.method(*args, **kwargs)``; ``context`` reaches the service."""
        slot = await self._acquire()
        ctx = contextvars.copy_context()
        return await self._loop.run_in_executor(
            self._executor,
            ctx.run,
            self._run,
            slot,
            service,
            method,
            args,
            kwargs,
            context,
        )

    async def _acquire(self) -> ProxySlot:
        if not self._free.empty():
            return self._free.get_nowait()
        if self._waiting >= self.queue_limit:
            raise Overloaded()
        self._waiting += 1
        try:
            return await asyncio.wait_for(self._free.get(), self.acquire_timeout)
        except TimeoutError:
            raise Overloaded() from None
        finally:
            self._waiting -= 1

    def _run(self, slot, service, method, args, kwargs, context):
        # The slot goes back when its thread is done with it, even if the
        # awaiting request was cancelled meanwhile.
        try:
            return slot.call(service, method, args, kwargs, context)
        finally:
            self._loop.call_soon_threadsafe(self._free.put_nowait, slot)

    async def ping_broker(self) -> None:
        """Raise ``BrokerUnavailable`` unless RabbitMQ accepts a connection now."""
        await self._loop.run_in_executor(None, self._ping_broker)

    def _ping_broker(self):
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1, interval_start=0)
        except BROKER_ERRORS as error:
            raise BrokerUnavailable(str(error)) from None
