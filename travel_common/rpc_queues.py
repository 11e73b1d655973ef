"""The RPC queues: a service's request queue, and a caller's reply queue.

Request queues (``rpc-<service>``), by ``RPC_QUEUE_TYPE``:

- ``classic`` (the default; for a single node): durable and auto-delete.
  It is deleted as soon as its last consumer goes, so that a request for a
  service nobody runs is returned by the broker (``mandatory``) at once.
  Durable, because RabbitMQ 4.3 refuses transient queues that are not
  exclusive.  On a cluster, a classic queue lives on one node: while that
  node is down, the queue can be neither used nor declared again.
- ``quorum`` (for a cluster): a durable quorum queue, replicated on the
  cluster's nodes; it survives the loss of any minority of them.  Quorum
  queues are never auto-delete, so "no instance" is not told by the broker
  returning the request: callers watch the queue's consumers instead
  (``travel_common.consumer_watch``).

Either way a request carries a message TTL (the time left to its caller's
deadline), so that one that waits in a queue nobody consumes expires there
instead of being carried out later.

Reply queues are exclusive: they belong to the caller's connection and go
with it, and each (re)connection declares one under a new name.  A caller
that moves to another node never needs the node it left (a durable reply
queue homed there could not be declared again while that node is down).
"""

import uuid

from kombu import Queue
from nameko.rpc import RPC_QUEUE_TEMPLATE, get_rpc_exchange

QUEUE_TYPES = ("classic", "quorum")
DEFAULT_QUEUE_TYPE = "classic"
REPLY_QUEUE_TEMPLATE = "rpc.reply-{}-{}"


def request_queue(service_name: str, config: dict) -> Queue:
    """The request queue of ``service_name``, of the configured type."""
    queue_type = config.get("RPC_QUEUE_TYPE") or DEFAULT_QUEUE_TYPE
    if queue_type not in QUEUE_TYPES:
        raise ValueError("RPC_QUEUE_TYPE must be one of %s, not %r"
                         % (", ".join(QUEUE_TYPES), queue_type))
    options = {"auto_delete": True}
    if queue_type == "quorum":
        options = {"queue_arguments": {"x-queue-type": "quorum"}}
    return Queue(
        RPC_QUEUE_TEMPLATE.format(service_name),
        exchange=get_rpc_exchange(config),
        routing_key="%s.*" % service_name,
        durable=True,
        **options,
    )


def reply_queue(owner: str, config: dict) -> Queue:
    """A new exclusive reply queue for ``owner``; its routing key is
    ``queue.routing_key``."""
    routing_key = uuid.uuid4().hex
    return Queue(
        REPLY_QUEUE_TEMPLATE.format(owner, routing_key),
        exchange=get_rpc_exchange(config),
        routing_key=routing_key,
        durable=False,
        exclusive=True,
    )
