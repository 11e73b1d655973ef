"""Nothing grows with traffic: the gateway's reply queues and connections stay
the same from 100 requests to 10,000."""
from support import hammer

CONCURRENCY = 32


def reply_queues(vhost) -> set:
    return {name for name in vhost.queues() if name.startswith("rpc.reply-")}


def test_reply_queues_and_connections_stay_constant(http, stack, vhost):
    record = http.post("/airport", json={"airport": "steady"}).json()
    path = "/airport/" + record["id"]

    assert hammer(stack.url, path, 100, CONCURRENCY) == {200: 100}
    queues, connections = reply_queues(vhost), vhost.connections()

    assert hammer(stack.url, path, 10_000, CONCURRENCY) == {200: 10_000}
    assert reply_queues(vhost) == queues
    assert vhost.connections() == connections
    print("after 10,000 requests: %d reply queues, %d connections on the vhost"
          % (len(queues), connections))
