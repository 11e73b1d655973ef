"""What a broken or unreachable RabbitMQ connection raises, in kombu and py-amqp."""
import socket

from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import OperationalError

BROKER_ERRORS = (OSError, socket.timeout, AmqpConnectionError, OperationalError)


class ReplyLost(ConnectionError):
    """The reply queue of a call went with its connection: no reply will come."""
