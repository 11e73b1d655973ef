"""The one AMQP consumer of a service process, and the reply queue it renews.

- ``PromptQueueConsumer``: nameko's ``QueueConsumer``, shared by the
  service's request queue (``travel_common.rpc_entrypoint``), its reply
  queue and its timers.  It reconnects to a lost node at once, to the next
  node of ``AMQP_URI``, and then every second; connections carry heartbeats
  (``HEARTBEAT``, from ``AMQP_HEARTBEAT``), and an ack on a connection that
  just broke no longer takes the whole service down.
- ``PromptReplyListener``: the replies to the service's calls to other
  services (``travel_common.service_proxy``), on an exclusive reply queue
  that the consumer declares anew with each connection, consumed without
  acks; a reply only wakes its waiting call, in the consumer's greenthread.
  (Both live here: the consumer renews the listener's queue on every
  connection.)

The consumer's current channel (``channel``) is also where the service's
replies and its calls go out (``travel_common.consumer_channel``); a call's
request that no queue takes comes back there and fails the call.
"""

import logging
import time
from contextlib import contextmanager

from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    DEFAULT_TRANSPORT_OPTIONS,
    HEARTBEAT_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    TRANSPORT_OPTIONS_CONFIG_KEY,
)
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener

from travel_common.amqp_adapter import (
    on_basic_return,
    read_ahead,
    skip_blocked_check,
)
from travel_common.amqp_nodes import (
    DEFAULT_HEARTBEAT,
    RECONNECT_DELAY,
    NodeList,
    connected_node,
    dropped_on_error,
    nodes_for,
)
from travel_common.broker import BROKER_ERRORS, ReplyLost
from travel_common.nameko_adapter import (
    consumers,
    fail_returned,
    providers,
    reply_events,
)
from travel_common.rpc_queues import reply_queue

log = logging.getLogger(__name__)

RECONNECT_INTERVAL = 1.0  # seconds between attempts to reach a lost broker


class PromptQueueConsumer(QueueConsumer):
    """nameko's queue consumer, on the process's node list: a lost node is
    left for the next one (after ``RECONNECT_DELAY``), then each node is tried
    every second instead of kombu's growing back-off (2 s, 4 s, 6 s... up to
    30 s between attempts); connects and handshakes are bounded; and it
    survives an ack on a connection that just broke."""

    _node = None  # the node of the last connection
    channel = None  # the channel of the current connection

    def ack_message(self, message):
        # nameko ignores only py-amqp's ConnectionError here; a socket error
        # (broken pipe, reset) escapes and kills the service's container.
        # Either way the broker takes the message back with the connection.
        try:
            super().ack_message(message)
        except BROKER_ERRORS as error:
            log.warning("could not ack a message, the broker is unreachable: %s", error)

    @property
    def nodes(self) -> NodeList:
        return nodes_for(self.amqp_uri, self.container.config.get("AMQP_NODE_ORDER"))

    @property
    def connection(self):
        # nameko 2.14.1: nameko.messaging.QueueConsumer.connection, on the node list
        config = self.container.config
        return self.nodes.connection(
            config.get(HEARTBEAT_CONFIG_KEY, DEFAULT_HEARTBEAT),
            transport_options=config.get(
                TRANSPORT_OPTIONS_CONFIG_KEY, DEFAULT_TRANSPORT_OPTIONS
            ),
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )

    # kombu 5.7: kombu.mixins.ConsumerMixin.establish_connection, demoting a
    # lost node and reconnecting every RECONNECT_INTERVAL
    @contextmanager
    def establish_connection(self):
        if self._node is not None:  # connected before: that connection broke
            self.nodes.demote(self._node)
            time.sleep(RECONNECT_DELAY)  # a green sleep, under nameko
        # A lost connection is dropped, not closed: closing politely waits for
        # the broker's answer, forever when the node is silent.
        with dropped_on_error(self.create_connection()) as connection:
            connection.ensure_connection(
                self.on_connection_error,
                self.connect_max_retries,
                interval_start=RECONNECT_INTERVAL,
                interval_step=0,
                interval_max=RECONNECT_INTERVAL,
            )
            self._node = connected_node(connection)
            yield connection

    # nameko 2.14.1: QueueConsumer.get_consumers, after renewing reply queues
    def get_consumers(self, consumer_cls, channel):
        # Called on every (re)connection: an exclusive reply queue went with
        # the last connection, a new one is declared with this one.
        listeners = [provider for provider in providers(self)
                     if isinstance(provider, PromptReplyListener)]
        for listener in listeners:
            listener.renew_queue()
            on_basic_return(channel, listener.returned)
        made = super().get_consumers(consumer_cls, channel)
        for listener in listeners:  # replies are not acked
            consumers(self)[listener].no_ack = True
        # What the service sends goes out on this channel, without py-amqp's
        # read of the socket before each publish: the consumer's thread is
        # the socket's only reader (travel_common.consumer_channel).
        skip_blocked_check(channel.connection)
        read_ahead(channel.connection)  # the socket's only reader, see above
        self.channel = channel
        return made

    # nameko 2.14.1: QueueConsumer.handle_message spawns a thread for each
    # message; a reply only wakes the call that waits for it
    def handle_message(self, provider, body, message):
        if isinstance(provider, PromptReplyListener):
            provider.handle_message(body, message)
        else:
            super().handle_message(provider, body, message)


class PromptReplyListener(ReplyListener):
    """nameko's ``ReplyListener``, on an exclusive reply queue that is new with
    each connection (nameko's is durable, and on a cluster it lives on one
    node: while that node is down it can't be declared again).  The calls
    still waiting for a reply on the old queue fail with ``ReplyLost``."""

    queue_consumer = PromptQueueConsumer()

    def setup(self):
        self.renew_queue()
        self.queue_consumer.register_provider(self)

    def renew_queue(self):
        self.queue = reply_queue(self.container.service_name, self.container.config)
        self.routing_key = self.queue.routing_key
        events = reply_events(self)
        waiting = list(events.values())
        events.clear()
        for event in waiting:
            event.send_exception(ReplyLost("the reply queue went with its connection"))

    def get_reply_event(self, correlation_id):
        event = super().get_reply_event(correlation_id)
        event.correlation_id = correlation_id
        return event

    def handle_message(self, body, message):
        # nameko 2.14.1: ReplyListener.handle_message, without the ack (the
        # reply queue is consumed without acks)
        event = reply_events(self).pop(message.properties.get("correlation_id"), None)
        if event is not None:
            event.send(body)

    def returned(self, error, exchange, routing_key, message):
        fail_returned(self, routing_key, message)

    def forget(self, event):
        """Stop waiting for ``event``'s reply."""
        reply_events(self).pop(event.correlation_id, None)
