"""Fixtures shared by the whole suite.

The session's stack (airports and trips services as ``nameko run``
processes, the gateway as ``travel-gateway`` on a free port) runs on a
RabbitMQ vhost and a Redis database of its own, and is started once.
"""
import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from support import RedisDatabase, RedisServer, Vhost, running_stack
from support.rabbit_cluster import rabbit_cluster  # noqa: F401 - the cluster group's fixture

SESSION_RPC_TIMEOUT = 2


@pytest.fixture(scope="session")
def vhost():
    vhost = Vhost()
    yield vhost
    vhost.delete()


@pytest.fixture(scope="session")
def redis_db():
    database = RedisDatabase()
    yield database
    database.release()


@pytest.fixture(scope="session")
def stack(vhost, redis_db, tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack-logs")
    with running_stack(logs, vhost.uri, redis_db.uri,
                       RPC_TIMEOUT=str(SESSION_RPC_TIMEOUT)) as stack:
        yield stack


@pytest.fixture(scope="module")
def redis_server():
    """A Redis server of the module's own, which its tests may stop and start."""
    server = RedisServer()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def http(stack):
    """A ``requests`` session whose relative URLs go to the session's gateway."""

    class GatewaySession(requests.Session):
        def request(self, method, url, *args, **kwargs):
            kwargs.setdefault("timeout", 30)
            return super().request(method, stack.url + url, *args, **kwargs)

    with GatewaySession() as session:
        yield session


@pytest.fixture(scope="session")
def rpc(stack, vhost):
    """A standalone nameko proxy to the session's services."""
    with ClusterRpcProxy({"AMQP_URI": vhost.uri}, timeout=10) as proxy:
        yield proxy
