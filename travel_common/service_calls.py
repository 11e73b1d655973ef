"""A service's calls to other services: ``CallingServiceProxy``, what a
service's ``ServiceRpcProxy`` hands its workers.

A call's request goes out on the process's consumer channel, ``mandatory``,
without a publisher confirm (``travel_common.consumer_channel``), its
message TTL the time left to its deadline, and none after it
(``DeadlineExceeded``).  It fails at once (``UnknownService``) when the
consumer watch says no instance of the target runs, or when the broker
returns it (no queue took it), and waits for its reply until the caller's
deadline (``RpcTimeout``), not forever as nameko's does.
"""

import uuid

import eventlet
import kombu.serialization
from amqp.exceptions import RecoverableConnectionError
from nameko.exceptions import RpcTimeout, UnknownService, deserialize
from nameko.messaging import HeaderEncoder

from travel_common import consumer_channel, deadlines
from travel_common.call_context import DEADLINE
from travel_common.errors import DeadlineExceeded

# Seconds a call made without a deadline (not on behalf of the gateway)
# waits for its reply.
CALL_TIMEOUT = 10.0


class CallingMethodProxy(HeaderEncoder):
    """``worker.<service>.<method>``: calls one method of another service.

    ``caller`` is the worker's ``ServiceRpcProxy``: its reply listener
    (whose consumer's channel the request goes out on), its consumer
    ``watch``, its ``exchange`` and ``serializer``."""

    def __init__(self, worker_ctx, service_name: str, method_name: str, caller):
        self.worker_ctx = worker_ctx
        self.service_name = service_name
        self.method_name = method_name
        self.caller = caller

    def __call__(self, *args, **kwargs):
        if self.caller.watch.idle(self.service_name):
            raise UnknownService(self.service_name)
        deadline = self.worker_ctx.data.get(DEADLINE)
        left = None if deadline is None else deadlines.time_left(deadline)
        if left is not None and left <= 0:
            raise DeadlineExceeded()
        wait = CALL_TIMEOUT if left is None else left
        listener = self.caller.rpc_reply_listener
        event = self._send(listener, args, kwargs)
        try:
            with eventlet.Timeout(wait, RpcTimeout(wait)):
                body = event.wait()
            self.caller.watch.answered(self.service_name)
        finally:  # answered or not, the call waits no more
            listener.forget(event)
        # nameko 2.14.1: RpcReply.result
        error = body.get("error")
        if error:
            raise deserialize(error)
        return body["result"]

    def _send(self, listener, args, kwargs):
        """Publish the request; the event its reply will be sent to."""
        # nameko 2.14.1: MethodProxy._call, published on the consumer's channel
        headers = self.get_message_headers(self.worker_ctx)
        properties = {}
        ttl = deadlines.message_ttl(headers)
        if ttl is not None:  # in ms, as kombu's Producer.publish writes it
            properties["expiration"] = str(int(ttl * 1000))
        content_type, content_encoding, body = kombu.serialization.dumps(
            {"args": args, "kwargs": kwargs}, self.caller.serializer)
        channel = listener.queue_consumer.channel
        if channel is None:
            raise RecoverableConnectionError("not connected to the broker yet")
        correlation_id = str(uuid.uuid4())
        event = listener.get_reply_event(correlation_id)
        try:
            consumer_channel.publish(
                channel, body, self.caller.exchange,
                "%s.%s" % (self.service_name, self.method_name), mandatory=True,
                reply_to=listener.routing_key, correlation_id=correlation_id,
                content_type=content_type, content_encoding=content_encoding,
                application_headers=headers, **properties)
        except BaseException:
            listener.forget(event)
            raise
        return event


class CallingServiceProxy:
    """``worker.<service>``: the methods of another service."""

    def __init__(self, worker_ctx, service_name: str, caller):
        self.worker_ctx = worker_ctx
        self.service_name = service_name
        self.caller = caller

    def __getattr__(self, name):
        return CallingMethodProxy(self.worker_ctx, self.service_name, name,
                                  self.caller)
