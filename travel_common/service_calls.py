"""What a nameko service sends: its replies, and its calls to other services.

- ``ClusterPublisher``: nameko's ``Publisher`` on the process's node list
  (``travel_common.amqp_nodes``, in its current order), bounded in time: the
  connect and handshake, and the wait for the publisher confirm
  (``PUBLISH_TIMEOUT``), after which kombu's retries go on with the next
  node.  A request's message TTL is the time left to its deadline, and none
  is published after it (``DeadlineExceeded``).  nameko's own publisher
  waits forever for the confirm of a silent node, with the worker's thread.
- ``ClusterResponder``: nameko's ``Responder`` (a call's reply), through it.
- ``CallingServiceProxy``: what a service's ``ServiceRpcProxy`` hands its
  workers.  A call fails at once (``UnknownService``) when the consumer
  watch says no instance of the target runs, and waits for its reply until
  the caller's deadline (``RpcTimeout``), not forever as nameko's does.
"""

import eventlet
from nameko.amqp.publish import Publisher
from nameko.constants import DEFAULT_TRANSPORT_OPTIONS
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.rpc import MethodProxy, Responder, ServiceProxy

from travel_common import deadlines
from travel_common.amqp_nodes import CONNECT_TIMEOUT, nodes_for
from travel_common.consumer_watch import ConsumerWatch
from travel_common.errors import DeadlineExceeded

# Seconds the broker has to confirm a message (or a socket send to go out).
PUBLISH_TIMEOUT = 2.0
# Seconds a call made without a deadline (not on behalf of the gateway)
# waits for its reply.
CALL_TIMEOUT = 10.0


class ClusterPublisher(Publisher):
    transport_options = dict(DEFAULT_TRANSPORT_OPTIONS, connect_timeout=CONNECT_TIMEOUT)

    def __init__(self, amqp_uri, **options):
        super().__init__(amqp_uri, **options)
        self.nodes = nodes_for(amqp_uri)

    def publish(self, payload, **kwargs):
        deadline = (kwargs.get("extra_headers") or {}).get(deadlines.HEADER)
        if deadline is not None:
            left = deadlines.time_left(deadline)
            if left <= 0:
                raise DeadlineExceeded()
            kwargs["expiration"] = left
        kwargs.setdefault("timeout", PUBLISH_TIMEOUT)
        self.amqp_uri = self.nodes.uri
        super().publish(payload, **kwargs)


class ClusterResponder(Responder):
    publisher_cls = ClusterPublisher


class CallingMethodProxy(MethodProxy):
    publisher_cls = ClusterPublisher

    def __init__(self, worker_ctx, service_name, method_name, reply_listener,
                 watch: ConsumerWatch, **options):
        super().__init__(worker_ctx, service_name, method_name, reply_listener,
                         **options)
        self.watch = watch

    def __call__(self, *args, **kwargs):
        if self.watch.idle(self.service_name):
            raise UnknownService(self.service_name)
        deadline = self.worker_ctx.data.get("deadline")
        wait = CALL_TIMEOUT if deadline is None else deadlines.time_left(deadline)
        reply = self._call(*args, **kwargs)
        try:
            with eventlet.Timeout(max(wait, 0), RpcTimeout(wait)):
                return reply.result()
        finally:  # answered or not, the call waits no more
            self.reply_listener.forget(reply.reply_event)


class CallingServiceProxy(ServiceProxy):
    def __init__(self, worker_ctx, service_name, reply_listener, watch, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.watch = watch

    def __getattr__(self, name):
        return CallingMethodProxy(self.worker_ctx, self.service_name, name,
                                  self.reply_listener, self.watch, **self.options)
