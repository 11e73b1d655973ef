"""No password in any log line: the gateway and the services run for real
with an ``AMQP_URI`` listing several nodes, each URL with the password, the
first one a node that is not there; their connections are then closed by
the broker and a node is stopped and started again, so that every process
logs connection errors.  The probe's output is checked the same way."""

import os
import secrets
import subprocess
import sys

import pytest
import requests

from support import QUIET, ROOT, RedisDatabase, Stack, free_port, wait_until
from support.rabbit_cluster import RabbitCluster

pytestmark = pytest.mark.cluster

USER = "travel-secret"


@pytest.fixture
def secret_uri(rabbit_cluster: RabbitCluster):
    """A vhost and a user with a password of their own; the list URI, the
    password, and the vhost."""
    password = "pw-" + secrets.token_hex(12)
    vhost = rabbit_cluster.add_vhost("travel-secrets")
    rabbit_cluster.ctl("add_user", USER, password)
    rabbit_cluster.ctl("set_permissions", "-p", vhost, USER, ".*", ".*", ".*")
    nowhere = "amqp://%s:%s@127.0.0.1:%d/%s" % (USER, password, free_port(), vhost)
    uri = nowhere + ";" + rabbit_cluster.uri(vhost=vhost, user=USER,
                                             password=password)
    try:
        yield uri, password
    finally:
        rabbit_cluster.ctl("delete_user", USER)
        rabbit_cluster.ctl("delete_vhost", vhost)


def probe(service: str, amqp_uri: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "travel_common.probe", service, "--timeout", "3"],
        capture_output=True, text=True, cwd=ROOT, timeout=30,
        env=dict(os.environ, AMQP_URI=amqp_uri, **QUIET),
    )


def test_no_password_in_any_log_line(rabbit_cluster, secret_uri, tmp_path):
    uri, password = secret_uri
    database = RedisDatabase()
    stack = Stack(uri, database.uri, tmp_path, AMQP_NODE_ORDER="listed")
    stack.env["AMQP_NODE_ORDER"] = "listed"  # every process meets the missing node
    try:
        stack.start()
        assert requests.post(stack.url + "/airport", json={"airport": "x"},
                             timeout=10).status_code == 201
        for node in rabbit_cluster.nodes:
            node.ctl("close_all_connections", "test: connections closed")
        second = rabbit_cluster.nodes[0]
        second.ctl("stop_app")
        try:
            wait_until(lambda: requests.get(stack.url + "/ready",
                                            timeout=10).status_code == 200,
                       30, interval=0.5, what="the stack on the other nodes")
        finally:
            second.ctl("start_app")
        stack.wait_ready()
    finally:
        stack.stop()
        database.release()

    logs = {process.name: process.log() for process in (stack.gateway, *stack.services)}
    assert "RabbitMQ connection lost" in logs["gateway"]
    assert all("Connection to broker lost" in text
               for name, text in logs.items() if name != "gateway")
    for name, text in logs.items():
        assert password not in text, name
        if name != "gateway":
            assert "****@" in text, name  # nameko's lines name the URLs, masked

    not_running = probe("nobody_service", uri)
    unreachable = probe("airports_service", uri.split(";")[0])
    for done in (not_running, unreachable):
        assert done.returncode == 1
        assert password not in done.stdout + done.stderr
    assert "cannot reach RabbitMQ at amqp://%s:****@" % USER in unreachable.stderr
