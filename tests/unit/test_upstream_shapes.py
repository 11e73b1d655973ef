"""The library internals this project mirrors or reaches into are still
shaped as it expects (nameko 2.14.1, kombu 5.5-5.7, py-amqp 5.3-5.4): a new
release that changes one fails here, by name, first."""
import inspect

from amqp.channel import Channel
from amqp.connection import Connection as AmqpConnection
from kombu import Connection
from nameko.messaging import QueueConsumer
from nameko.rpc import MethodProxy, Responder, RpcConsumer

from travel_common.consumer_watch import QUEUE_DECLARE_ARGSIG


def test_py_amqp_queue_declare_argument_signature():
    # consumer_watch sends queue.declare itself, to await it with a timeout
    default = inspect.signature(Channel.queue_declare).parameters["argsig"].default
    assert default == QUEUE_DECLARE_ARGSIG


def test_py_amqp_heartbeat_tick_and_collect():
    # the gateway's event loop ticks heartbeats; lost connections are collected
    assert "rate" in inspect.signature(AmqpConnection.heartbeat_tick).parameters
    assert callable(Connection.collect)


def test_nameko_rpc_consumer_replies_through_a_responder():
    # rpc_entrypoint.RequestConsumer.handle_result mirrors it (and the
    # Responder's send_response, in rpc_entrypoint.reply)
    source = inspect.getsource(RpcConsumer.handle_result)
    assert "Responder(" in source and "ack_message(message)" in source
    assert list(inspect.signature(Responder.__init__).parameters) == [
        "self", "amqp_uri", "exchange", "serializer", "message", "ssl",
        "login_method"]


def test_nameko_queue_consumer_connection_is_a_property():
    # service.PromptQueueConsumer overrides it with the node list's
    assert isinstance(inspect.getattr_static(QueueConsumer, "connection"), property)


def test_nameko_method_proxy_reads_the_reply_routing_key_per_call():
    # reply queues are renewed with each connection; calls must pick it up
    assert "self.reply_listener.routing_key" in inspect.getsource(MethodProxy._call)
