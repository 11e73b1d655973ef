"""Nameko building blocks shared by the services.

- ``rpc``: nameko's RPC entrypoint, with a queue that lives only while some
  instance consumes it.  With nameko's default durable queue, a request sent
  while no instance runs waits in the broker and is carried out whenever an
  instance starts, long after the caller gave up (a "ghost write"); with this
  queue the broker returns the request at once, and the caller's proxy raises
  ``UnknownService``.  A request whose caller's ``deadline`` (context data,
  epoch seconds) has passed is not run: its caller gave up on it.  It is
  answered with ``DeadlineExceeded`` all the same, so that a service caller
  waiting on it is not left hanging.  Its consumer reconnects to a lost
  broker every second, and a reply it cannot send (the broker gone mid-call)
  no longer takes the whole service down, as it does in plain nameko.
- ``ServiceRpcProxy``: nameko's ``RpcProxy`` for calls to other services,
  through that same consumer.
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

from kombu import Queue
from marshmallow import ValidationError
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import (
    RPC_QUEUE_TEMPLATE,
    ReplyListener,
    Rpc,
    RpcConsumer,
    RpcProxy,
    get_rpc_exchange,
)
from nameko_redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from travel_common import redis_client
from travel_common.broker import BROKER_ERRORS
from travel_common.errors import DeadlineExceeded, Invalid, TravelError
from travel_common.logs import request_id_var
from travel_common.records import Records

log = logging.getLogger(__name__)

RECONNECT_INTERVAL = 1.0  # seconds between attempts to reach a lost broker


class PromptQueueConsumer(QueueConsumer):
    """nameko's queue consumer, retrying a lost broker every second instead of
    kombu's growing back-off (2 s, 4 s, 6 s... up to 30 s between attempts),
    and surviving an ack on a connection that just broke."""

    def ack_message(self, message):
        # nameko ignores only py-amqp's ConnectionError here; a socket error
        # (broken pipe, reset) escapes and kills the service's container.
        # Either way the broker takes the message back with the connection.
        try:
            super().ack_message(message)
        except BROKER_ERRORS as error:
            log.warning("could not ack a message, the broker is unreachable: %s", error)

    @contextmanager
    def establish_connection(self):
        with self.create_connection() as connection:
            connection.ensure_connection(
                self.on_connection_error,
                self.connect_max_retries,
                interval_start=RECONNECT_INTERVAL,
                interval_step=0,
                interval_max=RECONNECT_INTERVAL,
            )
            yield connection


class TransientRpcConsumer(RpcConsumer):
    queue_consumer = PromptQueueConsumer()

    def setup(self):
        if self.queue is None:
            service_name = self.container.service_name
            self.queue = Queue(
                RPC_QUEUE_TEMPLATE.format(service_name),
                exchange=get_rpc_exchange(self.container.config),
                routing_key=f"{service_name}.*",
                durable=False,
                auto_delete=True,
            )
            self.queue_consumer.register_provider(self)

    def handle_result(self, message, result, exc_info):
        # nameko lets a failed reply kill the worker's thread, and with it the
        # whole service; a broker gone mid-call must not take the service down.
        try:
            return super().handle_result(message, result, exc_info)
        except BROKER_ERRORS as error:
            log.warning("could not answer a call, the broker is unreachable: %s", error)
            return result, exc_info


class TransientRpc(Rpc):
    rpc_consumer = TransientRpcConsumer()

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
    """``@rpc`` with the transient queue; domain errors are expected outcomes."""
    return TransientRpc.decorator(expected_exceptions=TravelError)(fn)


class PromptReplyListener(ReplyListener):
    queue_consumer = PromptQueueConsumer()


class ServiceRpcProxy(RpcProxy):
    """nameko's ``RpcProxy`` for calls to other services, whose replies come in
    through the same promptly reconnecting consumer as the service's calls."""

    rpc_reply_listener = PromptReplyListener()


class RequestLog(DependencyProvider):
    """Request id in every log line of a call, and one line per RPC call."""

    def worker_setup(self, worker_ctx):
        request_id_var.set(worker_ctx.data.get("request_id", "-"))
        worker_ctx.started = time.perf_counter()

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
            extra={"rpc_outcome": outcome, "duration_ms": round(elapsed, 2)},
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
