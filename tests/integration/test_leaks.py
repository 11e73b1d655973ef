"""Nothing grows with traffic: the gateway's connections (one for the calls,
one for the consumer watch) and the reply queues stay the same from 100
requests to 10,000."""
import subprocess

from support import RABBIT_PORT, hammer

CONCURRENCY = 32


def reply_queues(vhost) -> set:
    return {name for name in vhost.queues() if name.startswith("rpc.reply-")}


def broker_connections(pid: int) -> int:
    """The process's TCP connections to RabbitMQ."""
    out = subprocess.run(
        ["ss", "-Htnp", "state", "established", "dport", "= :%d" % RABBIT_PORT],
        capture_output=True, text=True, check=True,
    ).stdout
    return sum(1 for line in out.splitlines() if "pid=%d," % pid in line)


def test_reply_queues_and_connections_stay_constant(http, stack, vhost):
    record = http.post("/airport", json={"airport": "steady"}).json()
    path = "/airport/" + record["id"]
    gateway = stack.gateway.popen.pid

    assert hammer(stack.url, path, 100, CONCURRENCY) == {200: 100}
    queues, connections = reply_queues(vhost), broker_connections(gateway)
    assert connections == 2  # every call on one; the consumer watch's

    assert hammer(stack.url, path, 10_000, CONCURRENCY) == {200: 10_000}
    assert reply_queues(vhost) == queues
    assert broker_connections(gateway) == connections
    print("after 10,000 requests: %d reply queues, %d gateway connections"
          % (len(queues), connections))
