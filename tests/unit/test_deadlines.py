"""A request's message TTL is the time left to its deadline."""
import time

import pytest

from travel_common import deadlines
from travel_common.errors import DeadlineExceeded
from travel_common.service_calls import ClusterPublisher


def test_no_deadline_no_ttl():
    assert deadlines.message_ttl({}) is None
    assert deadlines.message_ttl(None) is None


def test_ttl_is_the_time_left():
    ttl = deadlines.message_ttl({deadlines.HEADER: time.time() + 3})
    assert 2.9 < ttl <= 3


def test_a_passed_deadline_still_gives_a_positive_ttl():
    assert deadlines.message_ttl({deadlines.HEADER: time.time() - 1}) == 0.001


class RecordingPublisher(ClusterPublisher):
    """Stops where nameko's Publisher would start sending."""

    def __init__(self):
        super().__init__("amqp://u:p@rabbit-1:5672/;amqp://u:p@rabbit-2:5672/")
        self.sent = []


@pytest.fixture
def publisher(monkeypatch):
    publisher = RecordingPublisher()
    monkeypatch.setattr("nameko.amqp.publish.Publisher.publish",
                        lambda self, payload, **kwargs: self.sent.append(kwargs))
    return publisher


def test_a_services_request_carries_the_time_left(publisher):
    headers = {deadlines.HEADER: time.time() + 2}
    publisher.publish({"args": []}, extra_headers=headers)
    (sent,) = publisher.sent
    assert 1.9 < sent["expiration"] <= 2
    assert sent["timeout"] > 0  # the confirm is not awaited forever


def test_nothing_is_sent_after_the_deadline(publisher):
    with pytest.raises(DeadlineExceeded):
        publisher.publish({"args": []},
                          extra_headers={deadlines.HEADER: time.time() - 0.1})
    assert publisher.sent == []


def test_a_reply_has_no_ttl(publisher):
    publisher.publish({"result": 1})
    assert "expiration" not in publisher.sent[0]
