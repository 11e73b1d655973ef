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
from nameko.messaging import QueueConsumer
from nameko.rpc import MethodProxy, ReplyListener, Responder, RpcConsumer, RpcReply

from support.upstream import assert_source_unchanged

# (owner, name) -> (digest of its source, upstream, the adapter that mirrors it)
MIRRORED = {
    (Channel, "_basic_publish"): (
        "435fd18a6c885ecc", "amqp 5.4.2", "travel_common/consumer_channel.py"),
    (RpcConsumer, "handle_result"): (
        "25b95fd9dfce82c2", "nameko 2.14.1", "travel_common/rpc_entrypoint.py"),
    (Responder, "send_response"): (
        "d5c3234c5e408a01", "nameko 2.14.1", "travel_common/rpc_entrypoint.py"),
    (MethodProxy, "_call"): (
        "162cdf3c92de6792", "nameko 2.14.1", "travel_common/service_calls.py"),
    (RpcReply, "result"): (
        "5b81ff69807ac2fd", "nameko 2.14.1", "travel_common/service_calls.py"),
    (ReplyListener, "handle_message"): (
        "c10e21f1b3ea8be0", "nameko 2.14.1", "travel_common/queue_consumer.py"),
    # PromptQueueConsumer.get_consumers finds each provider's consumer in
    # self._consumers once nameko's get_consumers has made them
    (QueueConsumer, "get_consumers"): (
        "9566ed8719e2f073", "nameko 2.14.1", "travel_common/queue_consumer.py"),
    (QueueConsumer, "handle_message"): (
        "47cda24e5edc9402", "nameko 2.14.1", "travel_common/queue_consumer.py"),
    # PromptReplyListener.returned is a basic_return handler of the channel
    (Channel, "_on_basic_return"): (
        "762d7e58e6c964d2", "amqp 5.4.2", "travel_common/queue_consumer.py"),
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
