"""The one module that reaches into py-amqp's internals (under kombu).

- ``read_frames``: the gateway's event loop reads the socket itself and
  hands py-amqp the bytes, frame by frame, through the transport's buffer;
- ``read_ahead``: py-amqp asks the socket for exactly the bytes it needs
  next, three reads per frame and nine per message; a service's consumer
  takes what the socket holds instead, and py-amqp reads from that;
- ``skip_blocked_check``: py-amqp reads the socket before every publish to
  look for a connection.blocked notice, which would make a publish block the
  event loop; the loop reads those notices itself;
- ``on_basic_return``: a channel's returned messages to a callback;
- ``send_timeout``: a bound on each socket send;
- ``queue_consumers``: a passive ``queue.declare`` whose answer is awaited
  with a timeout (``Channel.queue_declare`` has none).

Every reach is marked ``# amqp 5.4:`` with the upstream code it mirrors or
relies on; ``tests/unit/test_amqp_internals.py`` fails, naming the reach,
when one of them changes upstream.
"""

import socket
import struct

from amqp import spec
from amqp.exceptions import NotFound

FRAME_HEADER = struct.Struct(">BHI")  # AMQP frame: type, channel, payload size
FRAME_OVERHEAD = FRAME_HEADER.size + 1  # and the frame-end octet
# amqp 5.4: amqp.channel.Channel.queue_declare's argsig
QUEUE_DECLARE_ARGSIG = "BsbbbbbF"


def read_frames(connection, data: bytes) -> None:
    """Handle every whole AMQP frame in ``data`` and what was left over
    before, on the py-amqp ``connection``; a partial frame waits for the next
    read."""
    transport = connection.transport
    # amqp 5.4: TCPTransport._read takes what _read_buffer holds first
    buffered = transport._read_buffer = transport._read_buffer + data
    while len(buffered) >= FRAME_OVERHEAD:
        size = FRAME_HEADER.unpack_from(buffered)[2]
        if len(buffered) < size + FRAME_OVERHEAD:
            break
        # amqp 5.4: Connection.blocking_read, one frame (from the buffer only)
        connection.blocking_read(None)
        buffered = transport._read_buffer


READ_AHEAD = 16384  # bytes a read may take beyond the ones asked for


def read_ahead(connection) -> None:
    """Each socket read on ``connection`` takes up to ``READ_AHEAD`` bytes
    more than py-amqp asks for; it reads on from what was taken first."""
    transport = connection.transport
    # amqp 5.4: TCPTransport._read and SSLTransport._read call _quick_recv
    # (the socket's recv, or read) until _read_buffer holds what they want,
    # and keep the rest in _read_buffer
    recv = transport._quick_recv

    def recv_ahead(wanted: int) -> bytes:
        return recv(max(wanted, READ_AHEAD))

    transport._quick_recv = recv_ahead


def skip_blocked_check(connection) -> None:
    """Publish on ``connection`` without reading the socket first."""
    # amqp 5.4: Channel._basic_publish drains events first when the client
    # told the broker it takes connection.blocked; the broker was told at
    # connecting, only what publish looks at changes.
    properties = connection.client_properties
    capabilities = dict(properties["capabilities"], **{"connection.blocked": False})
    connection.client_properties = dict(properties, capabilities=capabilities)


def on_basic_return(channel, callback) -> None:
    """``callback(error, exchange, routing_key, message)`` for each message
    the broker returns on ``channel``."""
    # amqp 5.4: Channel._on_basic_return calls the handlers of
    # events["basic_return"]
    channel.events["basic_return"].add(callback)


def send_timeout(connection, seconds: float) -> socket.socket:
    """Bound each send on ``connection``'s socket to ``seconds``; the socket."""
    sock = connection.transport.sock  # amqp 5.4: _AbstractTransport.sock
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_SNDTIMEO,
        struct.pack("ll", int(seconds), int(seconds % 1 * 1e6)),
    )
    return sock


def queue_consumers(channel, queue: str, timeout: float) -> int:
    """The consumers of ``queue`` (0 when there is no such queue): a passive
    ``queue.declare`` whose answer is awaited at most ``timeout`` seconds."""
    # amqp 5.4: Channel.queue_declare, passive, with a timeout on its wait
    channel.send_method(
        spec.Queue.Declare, QUEUE_DECLARE_ARGSIG,
        (0, queue, True, False, False, False, False, {}),
    )
    try:
        _, _, consumers = channel.wait(
            spec.Queue.DeclareOk, returns_tuple=True, timeout=timeout
        )
    except NotFound:  # the broker closed the channel, py-amqp opened it again
        return 0
    return consumers
