"""``rpc``: nameko's RPC entrypoint, on a request queue of the configured type
(``travel_common.rpc_queues``: classic, deleted with its last consumer, or
quorum, replicated over a cluster).

With nameko's default durable queue, a request sent while no instance runs
waits in the broker and is carried out whenever an instance starts, long
after the caller gave up (a "ghost write"); here a request for a service
nobody runs fails at once (``UnknownService``), and one whose caller's
``deadline`` (context data, epoch seconds) has passed is not run.  It is
answered with ``DeadlineExceeded`` all the same, so that a service caller
waiting on it is not left hanging.  The request queue is consumed by the
process's ``PromptQueueConsumer`` (``travel_common.queue_consumer``).  Each
reply goes out on the channel its request came from, before the request's
ack, without a publisher confirm (``travel_common.consumer_channel``); a
reply it cannot send (the broker gone mid-call) no longer takes the whole
service down, as it does in plain nameko.
"""

import inspect
import logging
import sys

import kombu.serialization
from nameko.exceptions import (
    IncorrectSignature,
    UnserializableValueError,
    serialize,
)
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from travel_common import consumer_channel, deadlines
from travel_common.broker import BROKER_ERRORS
from travel_common.errors import DeadlineExceeded, TravelError
from travel_common.queue_consumer import PromptQueueConsumer
from travel_common.rpc_queues import request_queue

log = logging.getLogger(__name__)


class RequestConsumer(RpcConsumer):
    """The service's request queue: its consumer, and its replies."""

    queue_consumer = PromptQueueConsumer()

    def setup(self):
        self.exchange = get_rpc_exchange(self.container.config).name
        if self.queue is None:
            self.queue = request_queue(self.container.service_name,
                                       self.container.config)
            self.queue_consumer.register_provider(self)

    def handle_result(self, message, result, exc_info):
        # nameko 2.14.1: RpcConsumer.handle_result, the reply sent by
        # ``reply`` instead of a Responder.  nameko lets a failed reply kill
        # the worker's thread, and with it the whole service; a broker gone
        # mid-call must not take the service down.  The request is acked
        # either way: it was carried out, and its caller, left without an
        # answer, was told that its outcome is unknown.
        try:
            result, exc_info = reply(message, self.exchange, result, exc_info)
        except BROKER_ERRORS as error:
            log.warning("could not answer a call, the broker is unreachable: %s", error)
        self.queue_consumer.ack_message(message)
        return result, exc_info


def reply(message, exchange: str, result, exc_info) -> tuple:
    """Send the answer to the request ``message`` on the request's channel;
    return ``(result, exc_info)``, as nameko's ``Responder.send_response``."""
    # nameko 2.14.1: Responder.send_response, the payload serialized once
    error = None
    if exc_info is not None:
        error = serialize(exc_info[1])
    # encoded the same way as the request
    serializer = kombu.serialization.registry.type_to_name[
        message.properties["content_type"]]
    try:
        encoded = kombu.serialization.dumps({"result": result, "error": error},
                                            serializer)
    except Exception:  # noqa: BLE001 - nameko's answer to what can't be sent
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))
        result = None
        encoded = kombu.serialization.dumps({"result": None, "error": error},
                                            serializer)
    content_type, content_encoding, body = encoded
    consumer_channel.publish(
        message.channel, body, exchange, message.properties["reply_to"],
        content_type=content_type, content_encoding=content_encoding,
        correlation_id=message.properties.get("correlation_id"),
    )
    return result, exc_info


class DeadlineRpc(Rpc):
    rpc_consumer = RequestConsumer()

    def setup(self):
        super().setup()
        method = getattr(self.container.service_cls, self.method_name)
        self.signature = inspect.signature(method)

    def check_signature(self, args, kwargs):
        # nameko 2.14.1: Entrypoint.check_signature, with the method's
        # signature looked up once: inspect.getcallargs builds it anew on
        # every call, about a twentieth of a service's CPU per call
        try:
            self.signature.bind(None, *args, **kwargs)  # None: the instance
        except TypeError as exc:
            raise IncorrectSignature(str(exc)) from None

    def handle_message(self, body, message):
        # the one header needed here: nameko's Rpc.handle_message unpacks
        # them all for the worker, and need not be made to twice
        deadline = message.headers.get(deadlines.HEADER)
        left = None if deadline is None else deadlines.time_left(deadline)
        if left is not None and left < 0:
            log.warning(
                "not running %s.%s: its caller stopped waiting %.1fs ago",
                self.container.service_name,
                self.method_name,
                -left,
            )
            error = DeadlineExceeded()
            self.rpc_consumer.handle_result(message, None, (type(error), error, None))
            return
        super().handle_message(body, message)


def rpc(fn):
    """``@rpc`` on the request queue; domain errors are expected outcomes."""
    return DeadlineRpc.decorator(expected_exceptions=TravelError)(fn)
