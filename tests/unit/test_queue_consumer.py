"""The services' queue consumer survives an ack on a connection that broke
between the reply and the ack (found by the broker outage tests: nameko's
own consumer let the broken pipe kill the service)."""
import logging

import pytest
from amqp.exceptions import ConnectionError as AmqpConnectionError

from travel_common.queue_consumer import PromptQueueConsumer


class Message:
    def __init__(self, error):
        self.error = error
        self.channel = type("Channel", (), {"connection": object()})()

    def ack(self):
        raise self.error


@pytest.mark.parametrize("error", [
    BrokenPipeError(32, "Broken pipe"),
    ConnectionResetError(104, "Connection reset by peer"),
    AmqpConnectionError("connection closed"),
])
def test_ack_on_a_broken_connection_is_logged_not_raised(error, caplog):
    consumer = PromptQueueConsumer()
    with caplog.at_level(logging.WARNING):
        consumer.ack_message(Message(error))
    if not isinstance(error, AmqpConnectionError):  # nameko ignores that one itself
        assert "could not ack a message" in caplog.text
