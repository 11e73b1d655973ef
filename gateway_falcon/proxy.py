"""nameko's standalone ``ClusterRpcProxy``, fitted for a gateway's event loop.

What it changes, through nameko's own extension points:

- no thread waits for a reply: a call's reply event is an asyncio future,
  resolved when the event loop reads the reply off the connection
  (``read_frames``); the proxy itself never blocks on the socket;
- context per call: one proxy serves many HTTP requests, so the context
  data (the request id) is set before each call, not at construction;
- requests expire after ``timeout``: in the broker (message TTL) and, for
  one already handed to an instance, at the instance (the ``deadline`` in
  the context data): a request nobody waits for any more is never carried
  out later;
- requests are published on the reply connection, with one long-lived
  producer and without publisher confirms (waiting for one would block the
  event loop); the ``mandatory`` request that no queue takes comes back as
  a basic.return, which fails its call with ``UnknownService``;
- replies are consumed without acks: the reply queue serves this connection
  only, and a reply matters only to a call still waiting for it (others are
  dropped);
- no socket read on publish: py-amqp reads the socket before every publish
  to look for a connection.blocked notice; here the loop is the only reader,
  and the notices it reads set ``blocked`` (a broker under a resource alarm
  stops taking messages until it sends connection.unblocked);
- failing fast: no multi-second connection retries when the broker is down,
  and a send the broker does not take within ``SEND_TIMEOUT`` fails instead
  of stalling the event loop.
"""

import socket
import struct
import time

from kombu import Consumer, Producer
from kombu.common import maybe_declare
from nameko.amqp.publish import Publisher
from nameko.exceptions import UnknownService
from nameko.rpc import MethodProxy, RpcReply
from nameko.standalone.rpc import (
    ClusterRpcProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
)

NON_PERSISTENT = 1

# Connect now, with one immediate retry: left to itself, kombu waits 2 s
# before retrying a refused connection.
CONNECT_ONCE = {"max_retries": 1, "interval_start": 0, "interval_step": 0,
                "interval_max": 0}

# Seconds a send may wait for room in the socket's buffer (a broker that
# stopped reading, e.g. under a memory alarm) before the call fails.
SEND_TIMEOUT = 0.5

FRAME_HEADER = struct.Struct(">BHI")  # AMQP frame: type, channel, payload size
FRAME_OVERHEAD = FRAME_HEADER.size + 1  # and the frame-end octet


class ReplyFuture:
    """nameko's reply event for one call, as an asyncio future."""

    __slots__ = ("future", "correlation_id")

    def __init__(self, future, correlation_id):
        self.future = future
        self.correlation_id = correlation_id

    def send(self, body):
        if not self.future.done():
            self.future.set_result(body)

    def send_exception(self, error):
        if not self.future.done():
            self.future.set_exception(error)


class ProxyPublisher(Publisher):
    """Publishes with its proxy's long-lived producer.

    nameko's ``Publisher`` builds a kombu connection object and goes through
    kombu's shared producer pool and its retry wrapper on every call.  An
    error is not retried here: the caller replaces the proxy instead.
    """

    def __init__(self, amqp_uri, producer=None, **options):
        super().__init__(amqp_uri, **options)
        self.producer = producer

    def publish(self, payload, **kwargs):
        headers = kwargs.pop("extra_headers", {})
        self.producer.publish(
            payload,
            headers=headers,
            delivery_mode=self.delivery_mode,
            expiration=self.expiration,
            serializer=self.serializer,
            **kwargs,
        )


class GatewayMethodProxy(MethodProxy):
    publisher_cls = ProxyPublisher


class LoopQueueConsumer(PollingQueueConsumer):
    """The reply queue's consumer: no acks, every reply to the listener."""

    def _setup_consumer(self):
        self.connection.ensure_connection(**CONNECT_ONCE)
        channel = self.connection.channel()
        self.queue = self.queue.bind(channel)
        maybe_declare(self.queue, channel)  # and the RPC exchange it is bound to
        self.consumer = Consumer(
            channel, queues=[self.queue], accept=self.accept, no_ack=True,
            callbacks=[self.on_message],
        )
        self.consumer.consume()

    def on_message(self, body, message):
        self.provider.handle_message(body, message)

    def ack_message(self, message):
        pass


class LoopReplyListener(SingleThreadedReplyListener):
    loop = None  # set by the proxy before it starts

    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = LoopQueueConsumer(timeout=timeout)

    def get_reply_event(self, correlation_id):
        event = ReplyFuture(self.loop.create_future(), correlation_id)
        self._reply_events[correlation_id] = event
        return event


class GatewayRpcProxy(ClusterRpcProxy):
    """A started ``ClusterRpcProxy`` whose replies the event loop reads.

    Built (it connects) in any thread; used only on ``loop`` afterwards.
    """

    def __init__(self, config: dict, timeout: float, loop,
                 delivery_mode: int = NON_PERSISTENT):
        super().__init__(config, timeout=timeout, reply_listener_cls=LoopReplyListener)
        self.timeout = timeout
        self._reply_listener.loop = loop
        self.start()
        try:
            self._set_up(delivery_mode)
        except BaseException:
            self.stop()
            raise

    def _set_up(self, delivery_mode: int):
        connection = self._reply_listener.queue_consumer.connection
        self.amqp = connection.connection
        self.blocked = None  # the broker's reason, while it blocks publishing
        self.amqp.on_blocked = self._on_blocked
        self.amqp.on_unblocked = self._on_unblocked
        capabilities = dict(
            self.amqp.client_properties["capabilities"], **{"connection.blocked": False}
        )  # only what py-amqp's publish looks at: the broker was told at connecting
        self.amqp.client_properties = dict(
            self.amqp.client_properties, capabilities=capabilities
        )
        self.socket = self.amqp.transport.sock
        self.socket.setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDTIMEO,
            struct.pack("ll", int(SEND_TIMEOUT), int(SEND_TIMEOUT % 1 * 1e6)),
        )
        channel = connection.default_channel
        channel.events["basic_return"].add(self._on_return)
        self._methods = {}
        self._publish_options = {
            "expiration": self.timeout,
            "delivery_mode": delivery_mode,
            "producer": Producer(channel),
        }

    @property
    def pending(self) -> dict:
        """Reply events of the calls waiting for a reply, by correlation id."""
        return self._reply_listener._reply_events

    def call_async(
        self, service: str, method: str, args: tuple, kwargs: dict, context: dict
    ) -> RpcReply:
        """Publish the call; its ``reply_event.future`` gets the reply body."""
        proxy = self._methods.get((service, method))
        if proxy is None:
            proxy = self._methods[service, method] = GatewayMethodProxy(
                self._worker_ctx,
                service,
                method,
                self._reply_listener,
                **self._publish_options,
            )
        self._worker_ctx.data = dict(context, deadline=time.time() + self.timeout)
        return proxy.call_async(*args, **kwargs)

    def read_frames(self, data: bytes) -> None:
        """Handle every whole AMQP frame in ``data`` and what was left over
        before; a partial frame waits for the next read."""
        transport = self.amqp.transport
        buffered = transport._read_buffer = transport._read_buffer + data
        while len(buffered) >= FRAME_OVERHEAD:
            size = FRAME_HEADER.unpack_from(buffered)[2]
            if len(buffered) < size + FRAME_OVERHEAD:
                break
            self.amqp.blocking_read(None)  # one frame, from the buffer only
            buffered = transport._read_buffer

    def _on_blocked(self, reason):
        self.blocked = reason or "resource alarm"

    def _on_unblocked(self):
        self.blocked = None

    def _on_return(self, error, exchange, routing_key, message):
        """A request no queue took: no instance of the service is running."""
        event = self.pending.pop(message.properties.get("correlation_id"), None)
        if event is not None:
            event.send_exception(UnknownService(routing_key.partition(".")[0]))
