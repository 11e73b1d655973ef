"""nameko's standalone ``ClusterRpcProxy``, fitted for a long-lived gateway.

What it changes, through nameko's own extension points:

- context per call: one proxy serves many HTTP requests in turn, so the
  context data (the request id) is set before each call, not at construction;
- a real deadline: the reply wait is bounded by ``timeout`` as a whole, and a
  late or duplicate reply (a call redelivered after an instance died) is
  acked and dropped instead of piling up unacked;
- requests expire after ``timeout``: in the broker (message TTL) and, for
  one already handed to an instance, at the instance (the ``deadline`` in
  the context data): a request nobody waits for any more is never carried
  out later;
- one long-lived producer per proxy instead of nameko's per-call
  connection object and shared producer pool;
- failing fast: no multi-second connection retries when the broker is down;
  the caller throws the proxy away and builds a new one on its next call.
"""

import time

from kombu import Connection, Producer
from kombu.exceptions import ChannelError
from nameko.amqp.publish import Publisher, UndeliverableMessage
from nameko.exceptions import RpcTimeout
from nameko.rpc import MethodProxy
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


class ProxyPublisher(Publisher):
    """Publishes with its proxy's own long-lived producer.

    nameko's ``Publisher`` builds a kombu connection object and goes through
    kombu's shared producer pool (which grows with concurrent publishers) and
    its retry wrapper on every call: about a third of a proxy's CPU per call.
    Here each proxy keeps one producer, on one connection, with publisher
    confirms; an error is not retried, the caller rebuilds the proxy instead.
    """

    def __init__(self, amqp_uri, producer=None, **options):
        super().__init__(amqp_uri, **options)
        self.producer = producer

    def publish(self, payload, **kwargs):
        headers = kwargs.pop("extra_headers", {})
        try:
            self.producer().publish(
                payload,
                headers=headers,
                delivery_mode=self.delivery_mode,
                expiration=self.expiration,
                serializer=self.serializer,
                **kwargs,
            )
        except ChannelError as error:
            if "NO_ROUTE" in str(error):  # returned: mandatory, and no queue
                raise UndeliverableMessage() from None
            raise


class GatewayMethodProxy(MethodProxy):
    publisher_cls = ProxyPublisher


class DeadlineQueueConsumer(PollingQueueConsumer):
    def _setup_consumer(self):
        self.connection.ensure_connection(**CONNECT_ONCE)
        super()._setup_consumer()

    def on_message(self, body, message):
        correlation_id = message.properties.get("correlation_id")
        if correlation_id in self.provider._reply_events:
            self.replies[correlation_id] = (body, message)
        else:
            message.ack()  # a reply to a call given up on, or a duplicate

    def get_message(self, correlation_id):
        deadline = time.monotonic() + self.timeout
        try:
            while correlation_id not in self.replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError()
                self.consumer.connection.drain_events(timeout=remaining)
        except TimeoutError:
            event = self.provider._reply_events.pop(correlation_id)
            event.send_exception(RpcTimeout(self.timeout))
            return
        body, message = self.replies.pop(correlation_id)
        self.provider.handle_message(body, message)


class DeadlineReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = DeadlineQueueConsumer(timeout=timeout)


class GatewayRpcProxy(ClusterRpcProxy):
    """A started ``ClusterRpcProxy`` for one thread at a time: ``call`` blocks."""

    def __init__(self, config: dict, timeout: float):
        super().__init__(
            config, timeout=timeout, reply_listener_cls=DeadlineReplyListener
        )
        self.timeout = timeout
        self._methods = {}
        self._producer = None
        self._publish_options = {
            "expiration": timeout,
            "delivery_mode": NON_PERSISTENT,
            "producer": self.producer,
        }
        self.start()

    def producer(self) -> Producer:
        """The proxy's producer, connected on first use."""
        if self._producer is None:
            confirms = self._publish_options.get("use_confirms", True)
            connection = Connection(
                self._worker_ctx.config["AMQP_URI"],
                transport_options={"confirm_publish": confirms},
            )
            connection.ensure_connection(**CONNECT_ONCE)
            self._producer = Producer(connection.default_channel)
        return self._producer

    def stop(self):
        producer, self._producer = self._producer, None
        try:
            if producer is not None:
                producer.connection.release()
        finally:
            super().stop()

    def call(self, service: str, method: str, args: tuple, kwargs: dict, context: dict):
        proxy = self._methods.get((service, method))
        if proxy is None:
            proxy = GatewayMethodProxy(
                self._worker_ctx,
                service,
                method,
                self._reply_listener,
                **self._publish_options,
            )
            self._methods[service, method] = proxy
        self._worker_ctx.data = dict(context, deadline=time.time() + self.timeout)
        return proxy(*args, **kwargs)
