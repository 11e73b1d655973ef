"""The gateway's RPC client: one proxy, driven by the event loop.

All calls go through one ``GatewayRpcProxy`` (one AMQP connection, one reply
queue).  A call is published from the event loop and awaits its reply as a
future; the loop reads the connection when it is readable and resolves the
futures of the replies that came, and it ticks the connection's heartbeats
every second, so that a node that falls silent is noticed without traffic.
No thread waits on the broker, and the loop never does: connecting (and
declaring the reply queue) runs in a thread, so that the loop goes on
serving meanwhile.

Every call has a deadline, its HTTP request's (``context[DEADLINE]``,
epoch seconds; ``timeout`` from now by default): waiting for a place, for a
connection and for the reply all end at it, and nothing is published after
it.

At most ``max_in_flight`` calls are out at once; up to ``queue_limit`` more
wait for a place, each for at most ``acquire_timeout``; past that a call
fails at once with ``Overloaded``, so that overload gives fast 503s instead
of a growing queue.

What a failure tells the client:

- not sent (no connection, the broker blocking publishers, the deadline
  passed first, a service nobody runs: the broker returned the request, or
  the consumer watch saw no instance): the request was not carried out,
  503;
- the connection broke after the request was sent: its outcome is unknown
  (``OutcomeUnknown``, 504).  A call to a ``repeatable`` method (reads, and
  creates, which always carry an idempotency key) is sent again on the next
  connection instead, while its deadline allows: it is carried out once
  either way.  If it can't be sent again, its outcome stays unknown.
"""

import asyncio
import logging
import time

from nameko.exceptions import RpcTimeout, UnknownService

from gateway_falcon.proxy import GatewayRpcProxy
from travel_common import nameko_adapter
from travel_common.amqp_nodes import (
    DEFAULT_HEARTBEAT,
    DEFAULT_ORDER,
    RECONNECT_DELAY,
    NodeList,
)
from travel_common.broker import BROKER_ERRORS
from travel_common.call_context import DEADLINE
from travel_common.consumer_watch import ConsumerWatch

log = logging.getLogger(__name__)

READ_SIZE = 1 << 16
HEARTBEAT_TICK = 1.0  # seconds between two heartbeat checks of the connection
PING_TIMEOUT = 2.0  # seconds a ``ping_broker`` round trip may take
# A call that waited this long (seconds) for its reply on a connection on
# which no call ever got one finds the connection stalled.
STALLED_AFTER = 1.0


class BrokerUnavailable(Exception):
    """RabbitMQ can't be reached: the call was not sent."""


class OutcomeUnknown(Exception):
    """The connection broke after the call was sent: it may have been carried
    out or not."""


class StalledConnection(Exception):
    """Calls go out on the connection, nothing comes back."""


class TooLateToSend(Exception):
    """The call's deadline passed before it could be sent."""


class Overloaded(Exception):
    """Too many requests are already waiting for a place."""


# What a call raises when it was not sent (the client gets 503).
NOT_SENT = (BrokerUnavailable, TooLateToSend, UnknownService)


class RpcClient:
    """Calls services over one connection at a time (a ``GatewayRpcProxy``),
    opened when a call needs it and replaced when it breaks."""

    def __init__(
        self,
        amqp_uri: str,
        timeout: float,
        max_in_flight: int = 256,
        queue_limit: int = 0,
        acquire_timeout: float | None = None,
        proxy_options: dict | None = None,
        heartbeat: float = DEFAULT_HEARTBEAT,
        node_order: str = DEFAULT_ORDER,
        repeatable: frozenset = frozenset(),
        services: tuple = (),
    ):
        self.nodes = NodeList(amqp_uri, node_order)
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.queue_limit = queue_limit
        # By default a request waits for a place as long as for a reply: a
        # moment of slowness (an instance dying, its calls redelivered) must
        # not fail the requests queued behind it; the queue's length, not
        # the wait, is what sheds overload.
        self.acquire_timeout = timeout if acquire_timeout is None else acquire_timeout
        self.proxy_options = proxy_options or {}
        self.heartbeat = heartbeat
        self.repeatable = repeatable
        self.watch = ConsumerWatch(self.nodes)
        self.watch.watch(*services)
        self.in_flight = 0
        self._waiting = 0
        self._places = None
        self._opening = None
        self._proxy = None
        self._fileno = None
        self._ticking = None
        self._lost_at = None  # loop time the last connection was lost
        self.connections_opened = 0  # connections taken into use so far

    async def start(self):
        self._loop = asyncio.get_running_loop()
        self._places = asyncio.Semaphore(self.max_in_flight)
        self.watch.start()

    async def stop(self):
        proxy = self._detach(BrokerUnavailable("the gateway is stopping"))
        if proxy is not None:
            await self._loop.run_in_executor(None, proxy.drop)
        await self._loop.run_in_executor(None, self.watch.stop)

    async def call(self, service: str, method: str, context: dict, *args, **kwargs):
        """Call ``service.method(*args, **kwargs)``; ``context`` reaches the
        service, with the call's ``deadline``."""
        if context.get(DEADLINE) is None:
            context = dict(context, **{DEADLINE: time.time() + self.timeout})
        due = self._loop.time() + (context[DEADLINE] - time.time())
        await self._enter(due)
        sent = None  # the outcome of a call sent on a connection that broke
        try:
            while True:
                try:
                    return await self._call_once(due, service, method, args,
                                                 kwargs, context)
                except OutcomeUnknown as unknown:
                    if method not in self.repeatable or self._loop.time() >= due:
                        raise
                    sent = unknown
                    log.info("sending %s.%s again: the connection broke under it",
                             service, method)
                except NOT_SENT:
                    if sent is not None:  # the first one may have been carried out
                        raise sent from None
                    raise
        finally:
            self.in_flight -= 1
            self._places.release()

    @property
    def connection(self) -> GatewayRpcProxy | None:
        """The connection calls go out on now (none before the first call,
        nor while a lost one is being replaced)."""
        return self._proxy

    async def _call_once(self, due, service, method, args, kwargs, context):
        proxy = self._proxy or await self._connect(due)
        if proxy.blocked:
            raise BrokerUnavailable("RabbitMQ blocks publishing: " + proxy.blocked)
        if self.watch.idle(service):
            raise UnknownService(service)
        if self._loop.time() >= due:
            raise TooLateToSend()
        try:
            reply = proxy.call_async(service, method, args, kwargs, context)
        except BROKER_ERRORS as error:
            self._disconnect(error)
            raise BrokerUnavailable(str(error)) from None
        event = reply.reply_event
        sent = self._loop.time()
        try:
            async with asyncio.timeout_at(due):
                nameko_adapter.set_reply_body(reply, await event.future)
            self.watch.answered(service)
        except TimeoutError:
            if self._loop.time() - sent >= STALLED_AFTER:
                self._check_stalled(proxy)
            raise RpcTimeout(self.timeout) from None
        finally:
            proxy.pending.pop(event.correlation_id, None)
        return reply.result()  # the result, or the service's error raised

    def _check_stalled(self, proxy: GatewayRpcProxy):
        """Give up a connection on which calls time out and no call ever got
        its reply: RabbitMQ 3.10 drops the messages for a quorum queue of a
        channel opened just as the queue's leader was lost, for
        ``net_ticktime`` + 5 s (seen here after a ``kill -9``).  The next
        call connects to the next node.  (A connection that had replies
        stays: a service slow to answer, or a queue's leader being elected
        again, is no fault of the connection.)"""
        if proxy is self._proxy and not proxy.replied:
            self._disconnect(StalledConnection(
                "no call got its reply on this connection"))

    async def _enter(self, due: float):
        if self._places.locked():
            if self._waiting >= self.queue_limit:
                raise Overloaded()
            self._waiting += 1
            try:
                async with asyncio.timeout_at(
                    min(due, self._loop.time() + self.acquire_timeout)
                ):
                    await self._places.acquire()
            except TimeoutError:
                raise Overloaded() from None
            finally:
                self._waiting -= 1
        else:
            await self._places.acquire()
        self.in_flight += 1

    async def _connect(self, due: float) -> GatewayRpcProxy:
        if self._opening is None:  # one attempt at a time; all calls wait for it
            self._opening = self._loop.run_in_executor(None, self._open)
            # Taken into use when it is open, even if every request waiting
            # for it is gone by then: a connection is never left unused.
            self._opening.add_done_callback(self._opened)
        try:
            async with asyncio.timeout_at(due):
                await asyncio.shield(self._opening)
        except TimeoutError:
            raise BrokerUnavailable("no connection to RabbitMQ in time") from None
        except (*BROKER_ERRORS, RuntimeError) as error:
            raise BrokerUnavailable(str(error)) from None
        if self._proxy is None:
            raise BrokerUnavailable("the connection closed as it opened")
        return self._proxy

    def _open(self) -> GatewayRpcProxy:
        """Connect (in a thread), ``RECONNECT_DELAY`` after a connection was lost."""
        if self._lost_at is not None:
            time.sleep(max(0.0, self._lost_at + RECONNECT_DELAY - self._loop.time()))
        return GatewayRpcProxy(
            self.nodes, self.heartbeat, self._loop, **self.proxy_options
        )

    def _opened(self, opening: asyncio.Future):
        self._opening = None
        if opening.cancelled() or opening.exception() is not None:
            return
        proxy = opening.result()
        self.connections_opened += 1
        log.info("connected to RabbitMQ at %s", proxy.node)
        self._fileno = proxy.socket.fileno()
        self._loop.add_reader(self._fileno, self._on_readable, proxy)
        self._proxy = proxy
        self._ticking = self._loop.call_later(HEARTBEAT_TICK, self._tick, proxy)

    def _on_readable(self, proxy: GatewayRpcProxy):
        try:
            data = proxy.socket.recv(READ_SIZE)
            if not data:
                raise ConnectionError("the broker closed the connection")
            proxy.read_frames(data)
        except Exception as error:  # noqa: BLE001 - whatever it is, the connection is done
            self._disconnect(error)

    def _tick(self, proxy: GatewayRpcProxy):
        """Send a heartbeat when due; give the connection up when the broker
        has sent nothing for two heartbeat intervals."""
        try:
            proxy.amqp.heartbeat_tick()
        except Exception as error:  # noqa: BLE001 - whatever it is, the connection is done
            self._disconnect(error)
        else:
            self._ticking = self._loop.call_later(HEARTBEAT_TICK, self._tick, proxy)

    def _disconnect(self, error: Exception):
        proxy = self._detach(error)
        if proxy is not None:
            log.warning("RabbitMQ connection lost: %s", error)
            self._lost_at = self._loop.time()
            self.nodes.demote(proxy.node)
            proxy.drop()

    def _detach(self, error: Exception) -> GatewayRpcProxy | None:
        """Stop reading the proxy's connection; the calls it carries have an
        unknown outcome now."""
        proxy, self._proxy = self._proxy, None
        if proxy is None:
            return None
        self._loop.remove_reader(self._fileno)
        self._ticking.cancel()
        for event in proxy.pending.values():
            event.send_exception(OutcomeUnknown(str(error)))
        proxy.pending.clear()
        return proxy

    async def ping_broker(self) -> None:
        """Raise ``BrokerUnavailable`` unless a message sent through the RPC
        exchange to the gateway's own reply queue comes back within
        ``PING_TIMEOUT``: the broker routes for this connection now."""
        due = self._loop.time() + PING_TIMEOUT
        proxy = self._proxy or await self._connect(due)
        try:
            event = proxy.ping()
        except BROKER_ERRORS as error:
            self._disconnect(error)
            raise BrokerUnavailable(str(error)) from None
        try:
            async with asyncio.timeout_at(due):
                await event.future
        except (TimeoutError, OutcomeUnknown):
            raise BrokerUnavailable("RabbitMQ did not route a message back") from None
        finally:
            proxy.pending.pop(event.correlation_id, None)
