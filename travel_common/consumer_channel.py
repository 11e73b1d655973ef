"""What a service process sends on its consumer's own channel: the replies to
the calls it serves (``travel_common.rpc_entrypoint``) and its calls to
other services (``travel_common.service_calls``).

nameko sends each of them through kombu's producer pool, and waits for a
publisher confirm per message: a round trip to the broker, with the worker
parked on it.  Here they go out on the channel that the process's consumer
(``travel_common.queue_consumer``) already holds, without a confirm:

- a reply goes out on the channel its request came from, before the
  request's ack.  AMQP keeps a channel's methods in order: the broker has
  the reply before it lets the request go, and a connection lost before
  either reached it delivers the request again, as with a confirm.  A reply
  the broker drops (its caller's reply queue went with the caller's
  connection) would have been dropped after a confirm all the same;
- a call's request goes out ``mandatory``: a request that no queue takes
  comes back (basic.return) on this channel and fails its call with
  ``UnknownService``, as nameko's confirm did.

py-amqp's ``basic_publish`` first reads the socket (for a connection.blocked
notice).  On this connection the consumer's greenthread is the socket's only
reader (two readers of one socket is an error under eventlet): the consumer
turns that read off for its connections (``travel_common.amqp_adapter.
skip_blocked_check``).  py-amqp lets one writer at a time write a
connection's frames (its frame writer's lock).
"""

from amqp.basic_message import Message

NON_PERSISTENT = 1  # the gateway's requests too: the queues keep no message


def publish(channel, body, exchange: str, routing_key: str, mandatory: bool = False,
            **properties) -> None:
    """``body`` (serialized) to ``exchange`` with ``properties``, on ``channel``
    (a py-amqp channel of the consumer's), without a confirm.  A channel
    whose connection is gone raises ``RecoverableConnectionError``, a broken
    socket ``OSError`` (``travel_common.broker.BROKER_ERRORS``)."""
    channel.basic_publish(Message(body, delivery_mode=NON_PERSISTENT, **properties),
                          exchange, routing_key, mandatory)
