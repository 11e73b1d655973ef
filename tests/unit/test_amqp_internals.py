"""Each of py-amqp's internals (and kombu's) that the project mirrors or
reaches into (``travel_common/amqp_adapter.py``, and the services' queue
consumer), checked against the installed libraries: a failure names the
reach and what changed upstream.

Written against amqp 5.4.2 and kombu 5.7.0.  When one of these fails after
an upgrade: read the named upstream code, adapt our code (and its ``# amqp``
or ``# kombu`` comment) to it, and only then record the new shape here.
"""
import inspect

import pytest
from amqp.channel import Channel
from amqp.connection import Connection as AmqpConnection
from amqp.method_framing import frame_writer
from amqp.transport import SSLTransport, TCPTransport
from kombu import Connection
from kombu.mixins import ConsumerMixin

from travel_common.amqp_adapter import QUEUE_DECLARE_ARGSIG

from support.upstream import assert_source_unchanged

UPSTREAM = "amqp 5.4.2, kombu 5.7.0"
ADAPTER = "travel_common/amqp_adapter.py"

# Upstream code whose behaviour ours mirrors or relies on, by the digest of
# its source, and the code of ours that must follow a change.
RELIED_ON = {
    # read_frames: _read takes what _read_buffer holds before the socket;
    # read_ahead: it reads with _quick_recv and keeps the surplus
    (TCPTransport, "_read"): ("e70c3702dc01e3b7", ADAPTER),
    (SSLTransport, "_read"): ("735301d10bc9654c", ADAPTER),
    # read_frames: one frame per call, through the transport
    (AmqpConnection, "blocking_read"): ("c31d5e52c494d593", ADAPTER),
    # skip_blocked_check: publish drains events when the capability is on
    (Channel, "_basic_publish"): ("435fd18a6c885ecc", ADAPTER),
    # on_basic_return: returned messages go to events["basic_return"]
    (Channel, "_on_basic_return"): ("762d7e58e6c964d2", ADAPTER),
    # queue_consumers mirrors it, passive, with a timeout on the wait
    (Channel, "queue_declare"): ("e11c8daa304d3fae", ADAPTER),
    # PromptQueueConsumer.establish_connection mirrors it
    (ConsumerMixin, "establish_connection"): ("81f1b607c2d2fc30",
                                              "travel_common/queue_consumer.py"),
}


@pytest.mark.parametrize("owner, name", RELIED_ON, ids=[
    "%s.%s" % (owner.__name__, name) for owner, name in RELIED_ON])
def test_relied_on_upstream_code_is_unchanged(owner, name):
    digest, ours = RELIED_ON[owner, name]
    assert_source_unchanged(owner, name, digest, UPSTREAM, ours)


@pytest.mark.parametrize("make, attribute", [
    (lambda: TCPTransport("127.0.0.1:5672"), "_read_buffer"),
    (lambda: TCPTransport("127.0.0.1:5672"), "sock"),
    (lambda: AmqpConnection("127.0.0.1:5672"), "client_properties"),
    (lambda: AmqpConnection("127.0.0.1:5672"), "on_blocked"),
    (lambda: AmqpConnection("127.0.0.1:5672"), "on_unblocked"),
], ids=["TCPTransport._read_buffer", "TCPTransport.sock",
        "Connection.client_properties", "Connection.on_blocked",
        "Connection.on_unblocked"])
def test_attribute_we_use_is_there(make, attribute):
    assert hasattr(make(), attribute), (
        "py-amqp has no %s any more (%s had it): %s reaches for it"
        % (attribute, UPSTREAM, ADAPTER))


def test_the_connection_blocked_capability_is_announced():
    """``skip_blocked_check`` turns it off after connecting."""
    capabilities = AmqpConnection.negotiate_capabilities
    assert capabilities.get("connection.blocked") is True, (
        "py-amqp no longer announces connection.blocked (%s): "
        "skip_blocked_check in %s may have nothing to skip" % (UPSTREAM, ADAPTER))


def test_queue_declare_argument_signature():
    """``queue_consumers`` sends queue.declare itself, to await it with a timeout."""
    default = inspect.signature(Channel.queue_declare).parameters["argsig"].default
    assert default == QUEUE_DECLARE_ARGSIG, (
        "py-amqp's queue.declare arguments are now %r (%s: %r): "
        "queue_consumers in %s must follow"
        % (default, UPSTREAM, QUEUE_DECLARE_ARGSIG, ADAPTER))


def test_channel_events_are_a_dict_of_handler_sets():
    assert "self.events = defaultdict(set)" in inspect.getsource(Channel.__init__), (
        "py-amqp's Channel.events changed (%s): on_basic_return in %s adds "
        "to its set of basic_return handlers" % (UPSTREAM, ADAPTER))


def test_one_writer_at_a_time_writes_a_connections_frames():
    """The services publish from their workers' threads on the consumer's
    connection (``travel_common/consumer_channel.py``)."""
    assert "with buffer_lock:" in inspect.getsource(frame_writer), (
        "py-amqp's frame writer no longer holds a lock around each write "
        "(%s): travel_common/consumer_channel.py publishes from several "
        "threads on one connection" % UPSTREAM)


def test_heartbeat_tick_and_collect():
    """The gateway's event loop ticks heartbeats; lost connections are collected."""
    assert "rate" in inspect.signature(AmqpConnection.heartbeat_tick).parameters, (
        "py-amqp's Connection.heartbeat_tick changed (%s): the gateway's "
        "RpcClient ticks it" % UPSTREAM)
    assert callable(getattr(Connection, "collect", None)), (
        "kombu's Connection.collect is gone (%s): lost connections are "
        "dropped with it (travel_common/amqp_nodes.py)" % UPSTREAM)
