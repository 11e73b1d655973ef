"""A service's call to another service (``travel_common.service_calls``): its
request goes out on the consumer's channel, ``mandatory``, with the time
left to its deadline as its TTL and none after it; a request the broker
returns, or a service the watch says nobody runs, fails with
``UnknownService``; the reply's result or error is the call's."""
import json
import time

import pytest
from nameko.exceptions import UnknownService

from travel_common import deadlines
from travel_common.errors import DeadlineExceeded, NotFound
from travel_common.queue_consumer import PromptReplyListener
from travel_common.service_calls import CallingServiceProxy


class Channel:
    """Sends nothing; ``answer(properties)`` says what the broker does with
    each request: a reply body, ``"return"``, or None (nothing comes)."""

    def __init__(self, listener, answer):
        self.connection = object()
        self.listener = listener
        self.answer = answer
        self.sent = []

    def basic_publish(self, msg, exchange, routing_key, mandatory):
        self.sent.append(((exchange, routing_key, mandatory), msg))
        message = type("Message", (), {"properties": msg.properties})()
        answer = self.answer(msg.properties)
        if answer == "return":
            self.listener.returned(None, exchange, routing_key, message)
        elif answer is not None:
            self.listener.handle_message(answer, message)


class Watch:
    def __init__(self, idle=False):
        self.is_idle = idle

    def idle(self, service):
        return self.is_idle

    def answered(self, service):
        self.is_idle = False


class Worker:
    def __init__(self, deadline=None):
        self.data = {"request_id": "r-1"}
        if deadline is not None:
            self.data["deadline"] = deadline
        self.context_data = self.data


@pytest.fixture
def calling(monkeypatch):
    """``calling(answer, deadline=..., idle=...)``: the airports service as a
    worker sees it, and the channel its requests go out on."""

    def make(answer, deadline=None, idle=False):
        listener = PromptReplyListener()
        listener.routing_key = "reply-key"
        channel = Channel(listener, answer)
        monkeypatch.setattr(listener.queue_consumer, "channel", channel,
                            raising=False)
        caller = type("Caller", (), {
            "rpc_reply_listener": listener, "watch": Watch(idle),
            "exchange": "nameko-rpc", "serializer": "json"})()
        proxy = CallingServiceProxy(Worker(deadline), "airports_service", caller)
        return proxy, channel

    return make


def test_a_call_returns_its_replys_result(calling):
    airports, channel = calling(lambda properties: {"result": ["a"], "error": None})
    assert airports.reserve(["a", "b"], "t") == ["a"]
    ((exchange, routing_key, mandatory), request), = channel.sent
    assert (exchange, routing_key, mandatory) == (
        "nameko-rpc", "airports_service.reserve", True)
    assert json.loads(request.body) == {"args": [["a", "b"], "t"], "kwargs": {}}
    assert request.properties["reply_to"] == "reply-key"
    assert request.properties["application_headers"] == {"nameko.request_id": "r-1"}
    assert "expiration" not in request.properties
    assert airports.caller.rpc_reply_listener._reply_events == {}


def test_a_call_raises_its_replys_error(calling):
    error = {"exc_path": "travel_common.errors.NotFound", "exc_type": "NotFound",
             "exc_args": [], "value": ""}
    airports, _ = calling(lambda properties: {"result": None, "error": error})
    with pytest.raises(NotFound):
        airports.get("a")


def test_a_services_request_carries_the_time_left(calling):
    deadline = time.time() + 2
    airports, channel = calling(lambda properties: {"result": 1, "error": None},
                                deadline=deadline)
    airports.get("a")
    ((_, request),) = channel.sent
    assert 1900 < int(request.properties["expiration"]) <= 2000
    assert request.properties["application_headers"][deadlines.HEADER] == deadline


def test_nothing_is_sent_after_the_deadline(calling):
    airports, channel = calling(lambda properties: None, deadline=time.time() - 0.1)
    with pytest.raises(DeadlineExceeded):
        airports.get("a")
    assert channel.sent == []
    assert airports.caller.rpc_reply_listener._reply_events == {}


def test_a_returned_request_is_an_unknown_service(calling):
    airports, channel = calling(lambda properties: "return")
    with pytest.raises(UnknownService):
        airports.get("a")
    assert airports.caller.rpc_reply_listener._reply_events == {}


def test_a_service_nobody_runs_is_not_called(calling):
    airports, channel = calling(lambda properties: None, idle=True)
    with pytest.raises(UnknownService):
        airports.get("a")
    assert channel.sent == []
