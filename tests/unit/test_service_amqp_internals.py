"""The nameko and py-amqp code that the services' own AMQP path mirrors
(replies and calls on the consumer's channel), checked against the installed
libraries: a failure names the upstream function and the adapter to read.

Written against nameko 2.14.1 and py-amqp 5.4.2.  When one of these fails
after an upgrade: read the named upstream code, adapt the adapter, and only
then record the new digest here.
"""
import inspect

import pytest
from amqp.channel import Channel
from amqp.method_framing import frame_writer
from nameko.rpc import Responder, RpcConsumer

from support.upstream import assert_source_unchanged

# (owner, name) -> (digest of its source, upstream, the adapter that mirrors it)
MIRRORED = {
    (Channel, "_basic_publish"): (
        "435fd18a6c885ecc", "amqp 5.4.2", "travel_common/consumer_channel.py"),
    (RpcConsumer, "handle_result"): (
        "25b95fd9dfce82c2", "nameko 2.14.1", "travel_common/rpc_entrypoint.py"),
    (Responder, "send_response"): (
        "d5c3234c5e408a01", "nameko 2.14.1", "travel_common/rpc_entrypoint.py"),
}


@pytest.mark.parametrize("owner, name", MIRRORED, ids=[
    "%s.%s" % (owner.__name__, name) for owner, name in MIRRORED])
def test_mirrored_upstream_code_is_unchanged(owner, name):
    digest, upstream, adapter = MIRRORED[owner, name]
    assert_source_unchanged(owner, name, digest, upstream, adapter)


def test_py_amqp_lets_one_writer_at_a_time_write_a_connections_frames():
    # consumer_channel publishes from workers' greenthreads on the consumer's
    # connection: py-amqp's frame writer must hold its lock around each write
    assert "with buffer_lock:" in inspect.getsource(frame_writer)
