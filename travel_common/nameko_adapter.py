"""The doors into nameko's internals that its extension points don't offer,
for the gateway's standalone proxy (``gateway_falcon.proxy``), the health
probe and the services' queue consumer.

- ``ExclusiveReplyListener``: the standalone proxy's reply listener on an
  exclusive reply queue, gone with its connection (nameko's lives on for
  five minutes after it);
- ``LoopQueueConsumer``: the standalone proxy's queue consumer, on a node
  list, without acks, every reply handed to the listener at once (the
  gateway's event loop reads the socket, not the consumer);
- the standalone proxy's parts (``reply_listener``, ``set_call_context``),
  a listener's waiting calls (``reply_events``), a reply's body
  (``set_reply_body``), the context headers a call is published with
  (``pop_context_headers``), and a queue consumer's providers
  (``providers``) and kombu consumers (``consumers``).

Every reach is marked ``# nameko 2.14.1:`` with the upstream code it mirrors
or relies on; ``tests/unit/test_nameko_internals.py`` fails, naming the
reach, when one of them changes upstream.
"""

from kombu import Consumer
from kombu.common import maybe_declare
from nameko.constants import HEARTBEAT_CONFIG_KEY
from nameko.exceptions import UnknownService
from nameko.rpc import RpcReply
from nameko.standalone.rpc import (
    ClusterRpcProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
)

from travel_common.amqp_nodes import NodeList
from travel_common.rpc_queues import reply_queue


class LoopQueueConsumer(PollingQueueConsumer):
    """The reply queue's consumer: no acks, every reply to the listener."""

    nodes: NodeList  # set by the proxy before it starts

    # nameko 2.14.1: PollingQueueConsumer._setup_consumer, on the node list
    # and without acks.  Upstream calls it again after a socket timeout in
    # get_message (and then cancels the old consumer first); nothing here
    # calls get_message, so it runs once, from register_provider.
    def _setup_consumer(self):
        config = self.provider.container.config
        self.connection = self.nodes.connection(config.get(HEARTBEAT_CONFIG_KEY))
        self.nodes.connect_once(self.connection)
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

    def ack_message(self, msg):
        pass


class ExclusiveReplyListener(SingleThreadedReplyListener):
    """A standalone proxy's reply listener on an exclusive reply queue of
    ``client``'s (``travel_common.rpc_queues``)."""

    client: str  # names the queue

    # nameko 2.14.1: nameko.rpc.ReplyListener.setup, with our reply queue
    def setup(self):
        self.queue = reply_queue(self.client, self.container.config)
        self.routing_key = self.queue.routing_key
        self.queue_consumer.register_provider(self)


def reply_events(listener) -> dict:
    """The reply events of the calls ``listener`` waits for, by correlation id."""
    # nameko 2.14.1: ReplyListener.get_reply_event keeps them in _reply_events
    return listener._reply_events


def fail_returned(listener, routing_key: str, message) -> None:
    """A call's request that no queue took (the broker's basic.return of a
    ``mandatory`` message): no instance of its service runs, and the call
    waiting on ``listener`` fails with ``UnknownService``."""
    event = reply_events(listener).pop(message.properties.get("correlation_id"), None)
    if event is not None:
        event.send_exception(UnknownService(routing_key.partition(".")[0]))


def reply_listener(proxy: ClusterRpcProxy):
    """The reply listener of a standalone proxy."""
    # nameko 2.14.1: StandaloneProxyBase.__init__ builds _reply_listener
    return proxy._reply_listener


def set_call_context(proxy: ClusterRpcProxy, context: dict) -> None:
    """The context data (request id, deadline) of the proxy's next call:
    one proxy serves many requests, each with its own."""
    # nameko 2.14.1: StandaloneProxyBase.__init__ builds one _worker_ctx, and
    # MethodProxy._call reads its context data at each call
    proxy._worker_ctx.data = context


def worker_context(proxy: ClusterRpcProxy):
    """The worker context a standalone proxy's method proxies are built on."""
    # nameko 2.14.1: StandaloneProxyBase.__init__ builds _worker_ctx
    return proxy._worker_ctx


def set_reply_body(reply: RpcReply, body: dict) -> None:
    """Give ``reply`` its body, received elsewhere: ``reply.result()`` then
    returns (or raises) at once."""
    # nameko 2.14.1: RpcReply.result waits on its reply event only while
    # resp_body is None
    reply.resp_body = body


def pop_context_headers(publish_options: dict) -> dict:
    """The context headers of a call, taken out of the keywords a
    ``Publisher.publish`` gets from a ``MethodProxy``."""
    # nameko 2.14.1: MethodProxy._call publishes with extra_headers=, which
    # Publisher.publish merges into the message's headers
    return publish_options.pop("extra_headers", {})


def consumers(queue_consumer) -> dict:
    """A queue consumer's kombu consumers, by provider, once it has made them
    (on each connection)."""
    # nameko 2.14.1: QueueConsumer.get_consumers keeps them in _consumers
    return queue_consumer._consumers


def providers(collector) -> set:
    """The providers registered with a shared extension (a queue consumer)."""
    # nameko 2.14.1: ProviderCollector.register_provider adds to _providers
    return collector._providers
