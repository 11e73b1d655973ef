"""The gateway's RPC client: one proxy, driven by the event loop.

All calls go through one ``GatewayRpcProxy`` (one AMQP connection, one reply
queue).  A call is published from the event loop and awaits its reply as a
future; the loop reads the connection when it is readable and resolves the
futures of the replies that came.  No thread waits on the broker, so a call
costs the gateway little more than its frames.

At most ``max_in_flight`` calls are out at once; up to ``queue_limit`` more
wait for a place, each for at most ``acquire_timeout``; past that a call
fails at once with ``Overloaded``, so that overload gives fast 503s instead
of a growing queue.  A broken connection fails the calls in flight with
``BrokerUnavailable``, and the next call connects again (in a thread, so
that the loop goes on serving meanwhile).
"""

import asyncio
import logging

from kombu import Connection
from nameko.exceptions import RpcTimeout

from gateway_falcon.proxy import GatewayRpcProxy
from travel_common.broker import BROKER_ERRORS

log = logging.getLogger(__name__)

READ_SIZE = 1 << 16


class BrokerUnavailable(Exception):
    """RabbitMQ can't be reached (or the connection broke during the call)."""


class Overloaded(Exception):
    """Too many requests are already waiting for a place."""


class RpcPool:
    def __init__(
        self,
        amqp_uri: str,
        timeout: float,
        max_in_flight: int = 256,
        queue_limit: int = 0,
        acquire_timeout: float | None = None,
        proxy_options: dict | None = None,
    ):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.queue_limit = queue_limit
        # By default a request waits for a place as long as for a reply: a
        # moment of slowness (an instance dying, its calls redelivered) must
        # not fail the requests queued behind it; the queue's length, not
        # the wait, is what sheds overload.
        self.acquire_timeout = timeout if acquire_timeout is None else acquire_timeout
        self.proxy_options = proxy_options or {}
        self.in_flight = 0
        self._waiting = 0
        self._places = None
        self._opening = None
        self._proxy = None
        self._fileno = None

    async def start(self):
        self._loop = asyncio.get_running_loop()
        self._places = asyncio.Semaphore(self.max_in_flight)

    async def stop(self):
        proxy = self._detach(BrokerUnavailable("the gateway is stopping"))
        if proxy is not None:
            await self._loop.run_in_executor(None, self._close, proxy)

    async def call(self, service: str, method: str, context: dict, *args, **kwargs):
        """Call ``service.method(*args, **kwargs)``; ``context`` reaches the service."""
        await self._enter()
        try:
            proxy = self._proxy or await self._connect()
            if proxy.blocked:
                raise BrokerUnavailable("RabbitMQ blocks publishing: " + proxy.blocked)
            try:
                reply = proxy.call_async(service, method, args, kwargs, context)
            except BROKER_ERRORS as error:
                self._disconnect(error)
                raise BrokerUnavailable(str(error)) from None
            event = reply.reply_event
            try:
                async with asyncio.timeout(self.timeout):
                    reply.resp_body = await event.future
            except TimeoutError:
                raise RpcTimeout(self.timeout) from None
            finally:
                proxy.pending.pop(event.correlation_id, None)
            return reply.result()  # the result, or the service's error raised
        finally:
            self.in_flight -= 1
            self._places.release()

    async def _enter(self):
        if self._places.locked():
            if self._waiting >= self.queue_limit:
                raise Overloaded()
            self._waiting += 1
            try:
                async with asyncio.timeout(self.acquire_timeout):
                    await self._places.acquire()
            except TimeoutError:
                raise Overloaded() from None
            finally:
                self._waiting -= 1
        else:
            await self._places.acquire()
        self.in_flight += 1

    async def _connect(self) -> GatewayRpcProxy:
        if self._opening is None:  # one attempt at a time; all calls wait for it
            self._opening = self._loop.run_in_executor(None, self._open)
            # Taken into use when it is open, even if every request waiting
            # for it is gone by then: a connection is never left unused.
            self._opening.add_done_callback(self._opened)
        try:
            await asyncio.shield(self._opening)
        except (*BROKER_ERRORS, RuntimeError) as error:
            raise BrokerUnavailable(str(error)) from None
        if self._proxy is None:
            raise BrokerUnavailable("the connection closed as it opened")
        return self._proxy

    def _open(self) -> GatewayRpcProxy:
        return GatewayRpcProxy(
            {"AMQP_URI": self.amqp_uri}, self.timeout, self._loop, **self.proxy_options
        )

    def _opened(self, opening: asyncio.Future):
        self._opening = None
        if opening.cancelled() or opening.exception() is not None:
            return
        proxy = opening.result()
        self._fileno = proxy.socket.fileno()
        self._loop.add_reader(self._fileno, self._on_readable, proxy)
        self._proxy = proxy

    def _on_readable(self, proxy: GatewayRpcProxy):
        try:
            data = proxy.socket.recv(READ_SIZE)
            if not data:
                raise ConnectionError("the broker closed the connection")
            proxy.read_frames(data)
        except Exception as error:  # noqa: BLE001 - whatever it is, the connection is done
            self._disconnect(error)

    def _disconnect(self, error: Exception):
        proxy = self._detach(error)
        if proxy is not None:
            log.warning("RabbitMQ connection lost: %s", error)
            self._loop.run_in_executor(None, self._close, proxy)

    def _detach(self, error: Exception) -> GatewayRpcProxy | None:
        """Stop reading the proxy's connection and fail the calls it carries."""
        proxy, self._proxy = self._proxy, None
        if proxy is None:
            return None
        self._loop.remove_reader(self._fileno)
        for event in proxy.pending.values():
            event.send_exception(BrokerUnavailable(str(error)))
        proxy.pending.clear()
        return proxy

    @staticmethod
    def _close(proxy: GatewayRpcProxy):
        try:
            proxy.stop()
        except Exception:  # the connection is already gone
            log.debug("closing a broken proxy failed", exc_info=True)

    async def ping_broker(self) -> None:
        """Raise ``BrokerUnavailable`` unless RabbitMQ accepts a connection now."""
        await self._loop.run_in_executor(None, self._ping_broker)

    def _ping_broker(self):
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1, interval_start=0)
        except BROKER_ERRORS as error:
            raise BrokerUnavailable(str(error)) from None
