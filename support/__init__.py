"""Real parts to run the system on, for the tests and the benchmark alike:
RabbitMQ virtual hosts and nodes (``rabbitmq``), three-node RabbitMQ clusters
(``rabbit_cluster``) and the stack on one, under load (``cluster``), Redis
databases and servers (``redis_servers``) and Sentinel-watched groups
(``sentinel``), the project's
own processes (``processes``) and whole stacks of them (``stack``), load
(``load``), a TCP forwarder a test can cut (``tcp_proxy``), talking to a
gateway (``http``), the one problem-document check (``problems``), reading
the store (``store``); and the one stand-in for the gateway's RPC client, for
in-process tests of the app (``fake_rpc``).

The names most tests use are importable from here (``from support import
running_stack``).
"""
from support.fake_rpc import FakeRpc
from support.http import (
    GatewaySession,
    RawHttp,
    create_airport,
    create_trip,
    raw_problem,
)
from support.load import LoadLoop, hammer
from support.problems import PROBLEM, PROBLEM_KEYS, assert_problem, leaks
from support.processes import BIN, NAMEKO_CONFIG, QUIET, ROOT, Process, service
from support.rabbitmq import (
    RABBIT_HOST,
    RABBIT_PORT,
    RabbitNode,
    Vhost,
    count_consumers,
    rabbitmqctl,
)
from support.redis_servers import REDIS_HOST, REDIS_PORT, RedisDatabase, RedisServer
from support.stack import AIRPORTS_MODULE, TRIPS_MODULE, Stack, running_stack
from support.store import record_keys
from support.waiting import free_port, wait_until

__all__ = [
    "AIRPORTS_MODULE",
    "BIN",
    "FakeRpc",
    "GatewaySession",
    "LoadLoop",
    "NAMEKO_CONFIG",
    "PROBLEM",
    "PROBLEM_KEYS",
    "Process",
    "QUIET",
    "RABBIT_HOST",
    "RABBIT_PORT",
    "REDIS_HOST",
    "REDIS_PORT",
    "ROOT",
    "RabbitNode",
    "RawHttp",
    "RedisDatabase",
    "RedisServer",
    "Stack",
    "TRIPS_MODULE",
    "Vhost",
    "assert_problem",
    "count_consumers",
    "create_airport",
    "create_trip",
    "free_port",
    "hammer",
    "leaks",
    "raw_problem",
    "rabbitmqctl",
    "record_keys",
    "running_stack",
    "service",
    "wait_until",
]
