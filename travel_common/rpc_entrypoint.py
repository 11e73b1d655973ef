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
process's ``PromptQueueConsumer`` (``travel_common.queue_consumer``), and a
reply it cannot send (the broker gone mid-call) no longer takes the whole
service down, as it does in plain nameko.
"""

import logging
import time

from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from travel_common.broker import BROKER_ERRORS
from travel_common.call_context import DEADLINE
from travel_common.errors import DeadlineExceeded, TravelError
from travel_common.queue_consumer import PromptQueueConsumer
from travel_common.rpc_queues import request_queue
from travel_common.service_calls import ClusterResponder

log = logging.getLogger(__name__)


class RequestConsumer(RpcConsumer):
    """The service's request queue: its consumer, and its replies."""

    queue_consumer = PromptQueueConsumer()

    def setup(self):
        if self.queue is None:
            self.queue = request_queue(self.container.service_name,
                                       self.container.config)
            self.queue_consumer.register_provider(self)

    def handle_result(self, message, result, exc_info):
        # nameko.rpc.RpcConsumer.handle_result (2.14.1), through
        # ClusterResponder.  nameko lets a failed reply kill the worker's
        # thread, and with it the whole service; a broker gone mid-call must
        # not take the service down.  The request is acked either way: it
        # was carried out, and its caller, left without an answer, was told
        # that its outcome is unknown.
        config = self.container.config
        responder = ClusterResponder(
            config[AMQP_URI_CONFIG_KEY],
            get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except BROKER_ERRORS as error:
            log.warning("could not answer a call, the broker is unreachable: %s", error)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class DeadlineRpc(Rpc):
    rpc_consumer = RequestConsumer()

    def handle_message(self, body, message):
        deadline = self.unpack_message_headers(message).get(DEADLINE)
        if deadline is not None and time.time() > float(deadline):
            log.warning(
                "not running %s.%s: its caller stopped waiting %.1fs ago",
                self.container.service_name,
                self.method_name,
                time.time() - float(deadline),
            )
            error = DeadlineExceeded()
            self.rpc_consumer.handle_result(message, None, (type(error), error, None))
            return
        super().handle_message(body, message)


def rpc(fn):
    """``@rpc`` on the request queue; domain errors are expected outcomes."""
    return DeadlineRpc.decorator(expected_exceptions=TravelError)(fn)
