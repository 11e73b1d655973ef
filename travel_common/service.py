"""Nameko building blocks shared by the services.

- ``rpc``: nameko's RPC entrypoint, on a request queue of the configured
  type (``travel_common.rpc_queues``: classic, deleted with its last
  consumer, or quorum, replicated over a cluster).  With nameko's default
  durable queue, a request sent while no instance runs waits in the broker
  and is carried out whenever an instance starts, long after the caller gave
  up (a "ghost write"); here a request for a service nobody runs fails at
  once (``UnknownService``), and one whose caller's ``deadline`` (context
  data, epoch seconds) has passed is not run.  It is answered with
  ``DeadlineExceeded`` all the same, so that a service caller waiting on it
  is not left hanging.  Its consumer reconnects to a lost node at once, to
  the next node of ``AMQP_URI``, and then every second; connections carry
  heartbeats (``HEARTBEAT``, from ``AMQP_HEARTBEAT``), and a reply it cannot
  send (the broker gone mid-call) no longer takes the whole service down, as
  it does in plain nameko.
- ``ServiceRpcProxy``: nameko's ``RpcProxy`` for calls to other services,
  through that same consumer and an exclusive reply queue, new with each
  connection (``travel_common.service_calls``).
- ``RequestLog``: puts the caller's request id into the log context of each
  worker and logs one line per call.
- ``RecordStore``: nameko-redis's ``Redis`` provider, handing each worker a
  ``Records`` repository under the service's key prefix instead of a raw client;
  ``REDIS_URI`` may name a Sentinel-watched primary (``redis_client``), and
  ``REDIS_MIN_REPLICAS`` makes each write wait for that many replicas.
"""

import logging
import time
from contextlib import contextmanager

from marshmallow import ValidationError
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    DEFAULT_TRANSPORT_OPTIONS,
    HEARTBEAT_CONFIG_KEY,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
    TRANSPORT_OPTIONS_CONFIG_KEY,
)
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener, Rpc, RpcConsumer, RpcProxy, get_rpc_exchange
from nameko_redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from travel_common import redis_client
from travel_common.amqp_nodes import (
    DEFAULT_HEARTBEAT,
    RECONNECT_DELAY,
    NodeList,
    connected_node,
    dropped_on_error,
    nodes_for,
)
from travel_common.broker import BROKER_ERRORS, ReplyLost
from travel_common.consumer_watch import ConsumerWatch
from travel_common.errors import DeadlineExceeded, Invalid, TravelError
from travel_common.logs import request_id_var
from travel_common.records import Records
from travel_common.rpc_queues import reply_queue, request_queue
from travel_common.service_calls import CallingServiceProxy, ClusterResponder

log = logging.getLogger(__name__)

RECONNECT_INTERVAL = 1.0  # seconds between attempts to reach a lost broker


class PromptQueueConsumer(QueueConsumer):
    """nameko's queue consumer, on the process's node list: a lost node is
    left for the next one (after ``RECONNECT_DELAY``), then each node is tried
    every second
    instead of kombu's growing back-off (2 s, 4 s, 6 s... up to 30 s between
    attempts); connects and handshakes are bounded; and it survives an ack on
    a connection that just broke."""

    _node = None  # the node of the last connection

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
        # nameko.messaging.QueueConsumer.connection (2.14.1), on the node list
        config = self.container.config
        return self.nodes.connection(
            config.get(HEARTBEAT_CONFIG_KEY, DEFAULT_HEARTBEAT),
            transport_options=config.get(
                TRANSPORT_OPTIONS_CONFIG_KEY, DEFAULT_TRANSPORT_OPTIONS
            ),
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )

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

    def get_consumers(self, consumer_cls, channel):
        # Called on every (re)connection: an exclusive reply queue went with
        # the last connection, a new one is declared with this one.
        for provider in self._providers:
            if isinstance(provider, PromptReplyListener):
                provider.renew_queue()
        return super().get_consumers(consumer_cls, channel)


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
        deadline = self.unpack_message_headers(message).get("deadline")
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
        waiting, self._reply_events = self._reply_events, {}
        for event in waiting.values():
            event.send_exception(ReplyLost("the reply queue went with its connection"))

    def get_reply_event(self, correlation_id):
        event = super().get_reply_event(correlation_id)
        event.correlation_id = correlation_id
        return event

    def forget(self, event):
        """Stop waiting for ``event``'s reply."""
        self._reply_events.pop(event.correlation_id, None)


class ServiceRpcProxy(RpcProxy):
    """nameko's ``RpcProxy`` for calls to other services: their replies come
    in through the same promptly reconnecting consumer as the service's
    calls; a call fails at once when no instance of the target runs (a
    consumer watch), and waits for its reply until the caller's deadline."""

    rpc_reply_listener = PromptReplyListener()

    def setup(self):
        config = self.container.config
        self.watch = ConsumerWatch(nodes_for(config[AMQP_URI_CONFIG_KEY],
                                             config.get("AMQP_NODE_ORDER")))
        self.watch.watch(self.target_service)

    def start(self):
        self.watch.start()

    def stop(self):
        self.watch.stop()

    def get_dependency(self, worker_ctx):
        return CallingServiceProxy(worker_ctx, self.target_service,
                                   self.rpc_reply_listener, self.watch, **self.options)


class RequestLog(DependencyProvider):
    """Request id in every log line of a call, and one line per RPC call."""

    def worker_setup(self, worker_ctx):
        request_id_var.set(worker_ctx.data.get("request_id", "-"))
        worker_ctx.started = time.perf_counter()
        worker_ctx.started_at = time.time()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        if not isinstance(worker_ctx.entrypoint, Rpc):
            return  # a timer's round: it logs what it does itself
        elapsed = (time.perf_counter() - worker_ctx.started) * 1000
        outcome = "ok"
        if exc_info is not None:
            error = exc_info[0]
            outcome = error.__name__ if issubclass(error, TravelError) else "error"
        log.info(
            "rpc %s.%s %s %.1fms",
            worker_ctx.service_name,
            worker_ctx.entrypoint.method_name,
            outcome,
            elapsed,
            extra={
                "rpc_outcome": outcome,
                "duration_ms": round(elapsed, 2),
                # epoch seconds: when the call started, and its caller's deadline
                "started": round(worker_ctx.started_at, 3),
                "deadline": worker_ctx.data.get("deadline"),
            },
        )

    def get_dependency(self, worker_ctx):
        return None


class RecordStore(Redis):
    """Records of one kind in Redis, through nameko-redis.

    Redis being down must fail a call quickly, not hang it: short socket
    timeouts, and one immediate retry so that a connection left stale by a
    Redis restart is replaced without failing the call.
    """

    repository_class = Records

    def __init__(self, prefix: str, redis_key: str = "travel"):
        super().__init__(
            redis_key,
            socket_timeout=2,
            socket_connect_timeout=1,
            health_check_interval=10,
            retry=Retry(NoBackoff(), 1),
        )
        self.prefix = prefix

    def setup(self):
        super().setup()
        redis_client.check_uri(self.redis_uri)  # a bad URI stops the start-up
        self.min_replicas = redis_client.min_replicas(
            self.container.config.get("REDIS_MIN_REPLICAS", 0)
        )

    def start(self):
        # nameko-redis 1.1.0 Redis.start: the client, from our URI forms
        self.client = redis_client.connect(self.redis_uri, **self.options)
        self.repository = self.repository_class(
            self.client, self.prefix, min_replicas=self.min_replicas
        )

    def get_dependency(self, worker_ctx):
        return self.repository


def load_or_invalid(schema, data: dict) -> dict:
    """``schema.load(data)``, with field errors raised as the wire type ``Invalid``."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Invalid(error.messages) from None
