"""``read_ahead``: py-amqp reads the frames of a service's consumer from what
one socket read took, not with three reads of its own per frame."""
import socket
import struct

import pytest
from amqp.transport import TCPTransport

from travel_common.amqp_adapter import READ_AHEAD, read_ahead


def frame(channel: int, payload: bytes) -> bytes:
    """An AMQP body frame (type 3) on ``channel``."""
    return struct.pack(">BHI", 3, channel, len(payload)) + payload + b"\xce"


@pytest.fixture
def transport():
    """A py-amqp transport on one end of a socket pair, the other end, and
    the sizes its reads asked for."""
    ours, theirs = socket.socketpair()
    transport = TCPTransport("127.0.0.1:5672")
    transport.sock = ours
    transport._setup_transport()
    asked = []
    recv = transport._quick_recv

    def counted(size):
        asked.append(size)
        return recv(size)

    transport._quick_recv = counted
    read_ahead(type("Connection", (), {"transport": transport})())
    yield transport, theirs, asked
    ours.close()
    theirs.close()


def test_the_frames_one_read_took_are_read_without_the_socket(transport):
    transport, peer, asked = transport
    peer.sendall(frame(1, b"method") + frame(1, b"header") + frame(1, b"body" * 100))
    frames = [transport.read_frame() for _ in range(3)]
    assert [(kind, channel, bytes(payload)) for kind, channel, payload in frames] == [
        (3, 1, b"method"), (3, 1, b"header"), (3, 1, b"body" * 100)]
    assert asked == [READ_AHEAD]  # one read for the three frames
    assert transport._read_buffer == b""


def test_a_frame_larger_than_a_read_is_read_whole(transport):
    transport, peer, asked = transport
    big = bytes(range(256)) * (3 * READ_AHEAD // 256)
    peer.sendall(frame(2, big) + frame(2, b"next"))
    kind, channel, payload = transport.read_frame()
    assert (kind, channel, bytes(payload)) == (3, 2, big)
    kind, channel, payload = transport.read_frame()
    assert bytes(payload) == b"next"
    assert all(size >= READ_AHEAD for size in asked)
