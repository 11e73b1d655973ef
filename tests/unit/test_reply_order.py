"""A service's reply goes out on its request's own channel, before the
request's ack and without a publisher confirm: AMQP keeps a channel's methods
in order, so the broker never lets a request go before it has its reply."""
import json

from amqp.exceptions import RecoverableConnectionError

from travel_common.errors import NotFound
from travel_common.rpc_entrypoint import RequestConsumer


class Channel:
    """Records what is sent on it, in order."""

    def __init__(self):
        self.connection = object()
        self.sent = []

    def basic_publish(self, msg, exchange, routing_key, mandatory):
        if not self.connection:  # as py-amqp's
            raise RecoverableConnectionError("basic_publish: connection closed")
        self.sent.append(((exchange, routing_key, mandatory), msg))


class Message:
    def __init__(self, channel):
        self.channel = channel
        self.properties = {"content_type": "application/json",
                           "reply_to": "reply-key", "correlation_id": "c-1"}

    def ack(self):
        self.channel.sent.append("ack")


def answered(result, exc_info=None):
    consumer = RequestConsumer()
    consumer.exchange = "nameko-rpc"
    message = Message(Channel())
    returned = consumer.handle_result(message, result, exc_info)
    return message.channel.sent, returned


def test_the_reply_goes_out_on_the_requests_channel_before_its_ack():
    sent, returned = answered({"id": "a"})
    assert returned == ({"id": "a"}, None)
    (where, reply), ack = sent
    assert ack == "ack"
    assert where == ("nameko-rpc", "reply-key", False)
    assert json.loads(reply.body) == {"result": {"id": "a"}, "error": None}
    assert reply.properties["correlation_id"] == "c-1"
    assert reply.properties["content_type"] == "application/json"
    assert "expiration" not in reply.properties  # a reply has no TTL


def test_an_error_is_sent_as_nameko_sends_it():
    error = NotFound()
    sent, returned = answered(None, (NotFound, error, None))
    assert returned[1][1] is error
    body = json.loads(sent[0][1].body)
    assert body["result"] is None
    assert body["error"]["exc_path"] == "travel_common.errors.NotFound"


def test_a_result_that_cannot_be_serialized_is_an_error_reply():
    sent, (result, exc_info) = answered({"when": object()})
    assert result is None and exc_info is not None
    body = json.loads(sent[0][1].body)
    assert body["error"]["exc_type"] == "UnserializableValueError"
    assert sent[1] == "ack"


def test_a_reply_on_a_closed_channel_is_logged_and_the_request_acked(caplog):
    channel = Channel()
    channel.connection = None
    message = Message(channel)
    consumer = RequestConsumer()
    consumer.exchange = "nameko-rpc"
    consumer.handle_result(message, {"id": "a"}, None)
    assert "could not answer a call" in caplog.text
    assert channel.sent == []  # nameko acks only on a live connection
