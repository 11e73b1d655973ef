"""nameko's standalone ``ClusterRpcProxy``, fitted for a gateway's event loop.

What it changes, through nameko's own extension points:

- no thread waits for a reply: a call's reply event is an asyncio future,
  resolved when the event loop reads the reply off the connection
  (``read_frames``); the proxy itself never blocks on the socket;
- context per call: one proxy serves many HTTP requests, so the context
  data (the request id) is set before each call, not at construction;
- every call carries its HTTP request's deadline (context data): its
  message TTL is the time left to it, and an instance never starts it
  after it, so that a request nobody waits for any more is never carried
  out later;
- requests are published on the reply connection, with one long-lived
  producer and without publisher confirms (waiting for one would block the
  event loop); the ``mandatory`` request that no queue takes comes back as
  a basic.return, which fails its call with ``UnknownService``;
- replies are consumed without acks from an exclusive reply queue, new
  with each connection (``travel_common.rpc_queues``); a reply matters only
  to a call still waiting for it (others are dropped);
- the connection goes to the first node of the process's node list that
  answers, each connect and handshake bounded, with AMQP heartbeats that
  the event loop drives (``heartbeat_tick``);
- no socket read on publish: py-amqp reads the socket before every publish
  to look for a connection.blocked notice; here the loop is the only reader,
  and the notices it reads set ``blocked`` (a broker under a resource alarm
  stops taking messages until it sends connection.unblocked);
- failing fast: no multi-second connection retries when the broker is down,
  and a send the broker does not take within ``SEND_TIMEOUT`` fails instead
  of stalling the event loop;
- ``ping``: a message through the RPC exchange to its own reply queue, a
  round trip that tells the broker routes for this connection.

The reaches into nameko's and py-amqp's internals go through
``travel_common.nameko_adapter`` and ``travel_common.amqp_adapter``.
"""

import uuid

from kombu import Producer
from nameko.amqp.publish import Publisher
from nameko.constants import HEARTBEAT_CONFIG_KEY
from nameko.rpc import MethodProxy, RpcReply, get_rpc_exchange
from nameko.standalone.rpc import ClusterRpcProxy

from travel_common import amqp_adapter, nameko_adapter
from travel_common.amqp_nodes import NodeList, connected_node
from travel_common.consumer_channel import NON_PERSISTENT
from travel_common.deadlines import message_ttl

# Seconds a send may wait for room in the socket's buffer (a broker that
# stopped reading, e.g. under a memory alarm) before the call fails.
SEND_TIMEOUT = 0.5


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

    # nameko 2.14.1: nameko.amqp.publish.Publisher.publish, with our producer
    def publish(self, payload, **kwargs):
        headers = nameko_adapter.pop_context_headers(kwargs)
        self.producer.publish(
            payload,
            headers=headers,
            delivery_mode=self.delivery_mode,
            expiration=message_ttl(headers),
            serializer=self.serializer,
            **kwargs,
        )


class GatewayMethodProxy(MethodProxy):
    publisher_cls = ProxyPublisher


PING = "ping-"  # the correlation ids of pings


class LoopReplyListener(nameko_adapter.ExclusiveReplyListener):
    client = "gateway"
    loop = None  # set by the proxy before it starts
    replied = False  # whether a call got its reply on this connection

    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = nameko_adapter.LoopQueueConsumer(timeout=timeout)

    # nameko 2.14.1: ReplyListener.handle_message, noting real replies
    def handle_message(self, body, message):
        if not message.properties.get("correlation_id", PING).startswith(PING):
            self.replied = True
        super().handle_message(body, message)

    # nameko 2.14.1: ReplyListener.get_reply_event, an asyncio future
    def get_reply_event(self, correlation_id):
        event = ReplyFuture(self.loop.create_future(), correlation_id)
        nameko_adapter.reply_events(self)[correlation_id] = event
        return event


class GatewayRpcProxy(ClusterRpcProxy):
    """A started ``ClusterRpcProxy`` whose replies the event loop reads.

    Built (it connects) in any thread; used only on ``loop`` afterwards.
    ``node`` is the node (``host:port``) it is connected to.
    """

    def __init__(self, nodes: NodeList, heartbeat: float, loop,
                 delivery_mode: int = NON_PERSISTENT):
        config = {"AMQP_URI": nodes.uri, HEARTBEAT_CONFIG_KEY: heartbeat}
        super().__init__(config, reply_listener_cls=LoopReplyListener)
        self.listener = nameko_adapter.reply_listener(self)
        self.listener.loop = loop
        self.listener.queue_consumer.nodes = nodes
        self.start()
        try:
            self._set_up(delivery_mode)
        except BaseException:
            self.drop()
            raise

    def _set_up(self, delivery_mode: int):
        connection = self.listener.queue_consumer.connection
        self.node = connected_node(connection)
        self.amqp = connection.connection
        self.blocked = None  # the broker's reason, while it blocks publishing
        self.amqp.on_blocked = self._on_blocked
        self.amqp.on_unblocked = self._on_unblocked
        amqp_adapter.skip_blocked_check(self.amqp)
        self.socket = amqp_adapter.send_timeout(self.amqp, SEND_TIMEOUT)
        channel = connection.default_channel
        amqp_adapter.on_basic_return(channel, self._on_return)
        self._methods = {}
        self._producer = Producer(channel)
        self._publish_options = {"delivery_mode": delivery_mode,
                                 "producer": self._producer}

    def drop(self):
        """Close the connection's socket, without waiting for the broker
        (kombu's close waits for its answer, forever on a silent node)."""
        self.listener.queue_consumer.connection.collect()

    @property
    def replied(self) -> bool:
        """Whether a call (not a ping) got its reply on this connection."""
        return self.listener.replied

    @property
    def pending(self) -> dict:
        """Reply events of the calls waiting for a reply, by correlation id."""
        return nameko_adapter.reply_events(self.listener)

    def call_async(
        self, service: str, method: str, args: tuple, kwargs: dict, context: dict
    ) -> RpcReply:
        """Publish the call; its ``reply_event.future`` gets the reply body."""
        proxy = self._methods.get((service, method))
        if proxy is None:
            proxy = self._methods[service, method] = GatewayMethodProxy(
                nameko_adapter.worker_context(self),
                service,
                method,
                self.listener,
                **self._publish_options,
            )
        nameko_adapter.set_call_context(self, context)  # with its ``deadline``
        return proxy.call_async(*args, **kwargs)

    def ping(self) -> ReplyFuture:
        """Send a message to this proxy's own reply queue through the RPC
        exchange; the returned future gets it back."""
        correlation_id = PING + uuid.uuid4().hex
        event = self.listener.get_reply_event(correlation_id)
        self._producer.publish(
            {"ping": True},
            exchange=get_rpc_exchange(self.listener.container.config),
            routing_key=self.listener.routing_key,
            correlation_id=correlation_id,
            delivery_mode=NON_PERSISTENT,
            serializer="json",
        )
        return event

    def read_frames(self, data: bytes) -> None:
        """Handle every whole AMQP frame in ``data`` and what was left over
        before; a partial frame waits for the next read."""
        amqp_adapter.read_frames(self.amqp, data)

    def _on_blocked(self, reason):
        self.blocked = reason or "resource alarm"

    def _on_unblocked(self):
        self.blocked = None

    def _on_return(self, error, exchange, routing_key, message):
        nameko_adapter.fail_returned(self.listener, routing_key, message)
