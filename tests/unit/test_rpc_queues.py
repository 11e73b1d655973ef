"""The request queue of each RPC_QUEUE_TYPE, and the exclusive reply queues."""
import pytest

from travel_common.rpc_queues import reply_queue, request_queue


def test_classic_request_queue_is_durable_and_goes_with_its_last_consumer():
    queue = request_queue("airports_service", {})  # classic by default
    assert queue.name == "rpc-airports_service"
    assert queue.routing_key == "airports_service.*"
    assert queue.exchange.name == "nameko-rpc"
    assert (queue.durable, queue.auto_delete, queue.exclusive) == (True, True, False)
    assert not queue.queue_arguments


def test_quorum_request_queue_is_replicated_and_stays():
    queue = request_queue("airports_service", {"RPC_QUEUE_TYPE": "quorum"})
    assert (queue.durable, queue.auto_delete, queue.exclusive) == (True, False, False)
    assert queue.queue_arguments == {"x-queue-type": "quorum"}


def test_unknown_queue_type_is_refused():
    with pytest.raises(ValueError, match="RPC_QUEUE_TYPE"):
        request_queue("airports_service", {"RPC_QUEUE_TYPE": "stream"})


def test_reply_queues_are_exclusive_and_new_each_time():
    first, second = reply_queue("gateway", {}), reply_queue("gateway", {})
    assert first.name != second.name and first.routing_key != second.routing_key
    assert first.name == "rpc.reply-gateway-" + first.routing_key
    assert (first.exclusive, first.durable, first.auto_delete) == (True, False, True)
