"""A service's replies go out on its request's channel without a publisher
confirm (``travel_common.consumer_channel``).  A reply lost on the way gets
the answer the contract gives a reply that does not come: 504, the outcome
unknown; the call was carried out once, its request acked, and the instance
goes on serving."""
import time
import uuid

import pytest

from support import assert_problem, count_consumers, wait_until

RPC_TIMEOUT = 2


@pytest.fixture(scope="module")
def lossy_stack(stack_factory):
    """A stack whose one airports instance loses the replies to creates of
    airports named ``lost-...`` (``support.lossy_replies``)."""
    stack = stack_factory(RPC_TIMEOUT=str(RPC_TIMEOUT))
    (plain,) = stack.running("airports")
    stack.add_service("support.lossy_replies")
    wait_until(lambda: count_consumers(stack.vhost, "airports_service") == 2, 30,
               interval=0.2, what="the lossy instance to consume")
    plain.stop()
    stack.services.remove(plain)
    wait_until(lambda: count_consumers(stack.vhost, "airports_service") == 1, 30,
               interval=0.2, what="the lossy instance alone")
    return stack


def test_a_lost_reply_is_504_outcome_unknown(lossy_stack):
    http = lossy_stack.session()
    name = "lost-" + uuid.uuid4().hex
    started = time.monotonic()
    response = http.post("/airport", json={"airport": name})
    elapsed = time.monotonic() - started
    assert_problem(response, 504, "The service did not answer in time.")
    assert RPC_TIMEOUT <= elapsed < RPC_TIMEOUT + 1
    (instance,) = lossy_stack.running("support")
    assert "reply dropped" in instance.log()
    # Carried out once, its request acked: nothing waits to be run again.
    listed = http.get("/airports", params={"limit": 100}).json()["items"]
    assert [item["airport"] for item in listed].count(name) == 1
    assert lossy_stack.vhost.queues()["rpc-airports_service"] == (0, 1)
    # The instance goes on answering.
    response = http.post("/airport", json={"airport": "kept"})
    assert response.status_code == 201
    assert response.json()["airport"] == "kept"
    assert http.get("/ready").status_code == 200
