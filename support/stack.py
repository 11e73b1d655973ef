"""The whole system as real processes: the airports and trips services
(``nameko run``) and the gateway (``travel-gateway``) on a free port."""
import os
from contextlib import contextmanager
from pathlib import Path

import requests

from support.http import GatewaySession
from support.processes import BIN, QUIET, Process, service, stop_all
from support.rabbitmq import Vhost
from support.redis_servers import RedisDatabase
from support.waiting import free_port, wait_until

AIRPORTS_MODULE = "airports_svc.service"
TRIPS_MODULE = "trips_svc.service"


class Stack:
    """The gateway and the services, as real processes on their own vhost.

    ``env`` is added to every process's environment, ``service_env`` (module
    -> environment) to the instances of one service only, ``gateway_env`` to
    the gateway's.
    """

    def __init__(self, amqp_uri: str, redis_uri: str, log_dir: Path, env=None,
                 service_env=None, **gateway_env):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_dir = Path(log_dir)
        self.env = dict(os.environ, AMQP_URI=amqp_uri, REDIS_URI=redis_uri, **QUIET,
                        **(env or {}))
        self.env.pop("API_KEYS", None)
        self.service_env = dict(service_env or {})
        self.instances = 0
        self.services = []
        self.gateway = Process(
            "gateway", [str(BIN / "travel-gateway")],
            dict(self.env, HOST="127.0.0.1", PORT=str(self.port), **gateway_env),
            self.log_dir,
        )

    def add_service(self, module: str, env=None) -> Process:
        """Start one more instance of ``module``'s service."""
        self.instances += 1
        name = "%s-%d" % (module.split(".")[0], self.instances)
        env = dict(self.env, **self.service_env.get(module, {}), **(env or {}))
        process = service(module, name, env, self.log_dir)
        self.services.append(process.start())
        return process

    def running(self, prefix: str) -> list:
        """The running instances whose name starts with ``prefix``
        (``airports``, ``trips``)."""
        return [p for p in self.services if p.name.startswith(prefix) and p.running]

    def replace(self, process: Process, kill: bool = False) -> Process:
        """Stop ``process`` (``kill -9`` with ``kill``) and start a new
        instance of its service in its place."""
        if kill:
            process.kill()
        else:
            process.stop()
        self.services.remove(process)
        return self.add_service(process.argv[-1])

    def start(self, airports: int = 1, trips: int = 1):
        for _ in range(airports):
            self.add_service(AIRPORTS_MODULE)
        for _ in range(trips):
            self.add_service(TRIPS_MODULE)
        self.gateway.start()
        self.wait_ready()
        return self

    def session(self) -> GatewaySession:
        """A ``requests`` session whose relative URLs go to this gateway."""
        return GatewaySession(self.url)

    def ready(self) -> bool:
        try:
            return requests.get(self.url + "/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float = 30):
        wait_until(self.ready, timeout, interval=0.2, what="the stack to be ready")

    def services_log(self) -> str:
        return "".join(process.log() for process in self.services)

    def stop(self):
        stop_all([self.gateway, *self.services])


@contextmanager
def running_stack(log_dir, amqp_uri=None, redis_uri=None, airports=1, trips=1,
                  env=None, service_env=None, **gateway_env):
    """A started ``Stack``: on ``amqp_uri`` and ``redis_uri``, or on a vhost and
    a Redis database of its own (``stack.vhost``, ``stack.database``); stopped
    and cleaned up afterwards."""
    vhost = None if amqp_uri else Vhost()
    database = None if redis_uri else RedisDatabase()
    stack = Stack(amqp_uri or vhost.uri, redis_uri or database.uri, log_dir,
                  env=env, service_env=service_env, **gateway_env)
    stack.vhost, stack.database = vhost, database
    try:
        yield stack.start(airports, trips)
    finally:
        stack.stop()
        if vhost:
            vhost.delete()
        if database:
            database.release()
