"""Real parts for the tests: RabbitMQ vhosts, Redis databases and servers,
and the project's own processes (``nameko run``, ``travel-gateway``)."""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import redis
import requests
from kombu import Connection
from kombu.exceptions import ChannelError

from travel_common.runstack import QUIET_EVENTLET

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMEKO_CONFIG = str(ROOT / "compose" / "nameko.yml")
RABBIT_HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("TEST_RABBIT_PORT", "5672"))
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
QUIET = {"PYTHONWARNINGS": QUIET_EVENTLET, "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def rabbitmqctl(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60
    )
    if check and done.returncode != 0:
        raise RuntimeError("rabbitmqctl %s: %s" % (" ".join(args), done.stderr))
    return done.stdout


class Vhost:
    """A RabbitMQ virtual host of its own, for one test run: on the shared
    broker, or on ``node`` (a ``RabbitNode``)."""

    def __init__(self, prefix: str = "travel-test", node=None):
        self.name = "%s-%s" % (prefix, uuid.uuid4().hex[:10])
        self.ctl = node.ctl if node else rabbitmqctl
        host, port = ("127.0.0.1", node.port) if node else (RABBIT_HOST, RABBIT_PORT)
        self.ctl("add_vhost", self.name)
        self.ctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")
        self.uri = "amqp://guest:guest@%s:%d/%s" % (host, port, self.name)

    def queues(self) -> dict:
        """Queue name -> (messages, consumers)."""
        out = self.ctl("list_queues", "-p", self.name, "name", "messages", "consumers")
        rows = (line.split("\t") for line in out.splitlines() if "\t" in line)
        return {name: (int(m), int(c)) for name, m, c in rows if m.isdigit()}

    def delete(self):
        self.ctl("delete_vhost", self.name, check=False)


class RedisDatabase:
    """A numbered database of the shared Redis, claimed for one test run."""

    CLAIM = "travel-test:claimed-by"

    def __init__(self):
        for db in range(1, 16):
            client = redis.Redis(REDIS_HOST, REDIS_PORT, db=db, decode_responses=True)
            self._free_if_abandoned(client)
            if client.dbsize() == 0 and client.set(self.CLAIM, os.getpid(), nx=True):
                self.client, self.db = client, db
                self.uri = "redis://%s:%d/%d" % (REDIS_HOST, REDIS_PORT, db)
                return
            client.close()
        raise RuntimeError("no free Redis database to claim")

    def release(self):
        self.client.flushdb()
        self.client.close()

    @classmethod
    def _free_if_abandoned(cls, client):
        """Empty a database whose claiming process is gone (a run killed
        before it could release it), so that it can be claimed again."""
        claimed_by = client.get(cls.CLAIM)
        if claimed_by is None or not claimed_by.isdigit():
            return
        try:
            os.kill(int(claimed_by), 0)
        except ProcessLookupError:
            client.flushdb()
        except PermissionError:  # alive, another user's
            pass


class RedisServer:
    """A Redis server of its own, which a test may stop and start again.

    It keeps an append-only file, so that a restart keeps the data as a
    persistent production Redis would; ``appendfsync`` says how often it is
    flushed to disk (``everysec`` is the compose file's setting).
    """

    def __init__(self, appendfsync: str = "always"):
        self.appendfsync = appendfsync
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="travel-redis-")
        self.uri = "redis://127.0.0.1:%d/0" % self.port
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--save", "", "--appendonly", "yes",
             "--appendfsync", self.appendfsync],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, 10, what="redis-server to answer")

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.ConnectionError:
            return False

    def stop(self):
        """Stop the server; its data stays for the next ``start``."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Process:
    """One of the project's processes, its output in a log file."""

    def __init__(self, name: str, argv: list, env: dict, log_dir: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = Path(log_dir) / ("%s.log" % name)
        self.popen = None
        self.terminating = False

    def start(self):
        self.terminating = False
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            cwd=ROOT, start_new_session=True,
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum):
        if self.running:
            os.kill(self.popen.pid, signum)

    def terminate(self):
        """SIGTERM, once: a second one cuts nameko's graceful stop short."""
        if self.running and not self.terminating:
            self.terminating = True
            self.popen.terminate()

    def stop(self, timeout: float = 15):
        """SIGTERM, then SIGKILL if still running after ``timeout``."""
        if not self.running:
            return
        self.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.running:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def service(module: str, name: str, env: dict, log_dir: Path) -> Process:
    argv = [str(BIN / "nameko"), "run", "--config", NAMEKO_CONFIG, module]
    return Process(name, argv, env, log_dir)


def count_consumers(vhost: Vhost, service_name: str) -> int:
    """Instances consuming the service's RPC queue (0 while it doesn't exist)."""
    with Connection(vhost.uri, connect_timeout=5) as connection:
        try:
            _, _, consumers = connection.default_channel.queue_declare(
                "rpc-" + service_name, passive=True
            )
        except ChannelError:
            return 0
    return consumers


class Stack:
    """The gateway and the services, as real processes on their own vhost."""

    def __init__(self, amqp_uri: str, redis_uri: str, log_dir: Path, **gateway_env):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_dir = Path(log_dir)
        self.env = dict(os.environ, AMQP_URI=amqp_uri, REDIS_URI=redis_uri, **QUIET)
        self.env.pop("API_KEYS", None)
        self.instances = 0
        self.services = []
        self.gateway = Process(
            "gateway", [str(BIN / "travel-gateway")],
            dict(self.env, HOST="127.0.0.1", PORT=str(self.port), **gateway_env),
            self.log_dir,
        )

    def add_service(self, module: str, env=None) -> Process:
        self.instances += 1
        name = "%s-%d" % (module.split(".")[0], self.instances)
        process = service(module, name, dict(self.env, **(env or {})), self.log_dir)
        self.services.append(process.start())
        return process

    def start(self, airports: int = 1, trips: int = 1):
        for _ in range(airports):
            self.add_service("airports_svc.service")
        for _ in range(trips):
            self.add_service("trips_svc.service")
        self.gateway.start()
        self.wait_ready()
        return self

    def ready(self) -> bool:
        try:
            return requests.get(self.url + "/ready", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float = 30):
        wait_until(self.ready, timeout, interval=0.2, what="the stack to be ready")

    def stop(self):
        processes = [self.gateway, *self.services]
        for process in processes:
            process.terminate()
        for process in processes:
            process.stop()


class RabbitNode:
    """A RabbitMQ node of its own, on a free port, that a test may stop.

    For broker outages: stopping the machine's shared broker would break
    every other run.  It boots in about 10 s; use it for a module at most.
    """

    def __init__(self):
        self.port = free_port()
        self.name = "travel-test-%s@localhost" % uuid.uuid4().hex[:8]
        self.dir = Path(tempfile.mkdtemp(prefix="travel-rabbit-"))
        self.dir.chmod(0o777)  # the server drops to the rabbitmq user
        (self.dir / "rabbitmq.conf").write_text(
            "listeners.tcp.default = 127.0.0.1:%d\nloopback_users = none\n" % self.port
        )
        env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_DIST_PORT=str(free_port()),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "plugins"),
        )
        self.process = subprocess.Popen(
            ["rabbitmq-server"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        self.uri = "amqp://guest:guest@127.0.0.1:%d/" % self.port
        wait_until(self.answers, 60, interval=0.2, what="the RabbitMQ node to start")

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def ctl(self, *args: str, check: bool = True) -> str:
        return rabbitmqctl("-n", self.name, *args, check=check)

    def stop(self):
        self.ctl("stop")
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


class LoadLoop:
    """Threads sending requests in a loop; every outcome is kept.

    ``make_request(session)`` sends one request and returns the response.
    Outcomes are (started at, status or the exception's name, seconds).
    """

    def __init__(self, make_request, threads: int = 4):
        self.make_request = make_request
        self.threads = threads
        self.outcomes = []
        self._stop = threading.Event()
        self._workers = []

    def __enter__(self):
        for _ in range(self.threads):
            worker = threading.Thread(target=self._loop, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def _loop(self):
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    outcome = self.make_request(session).status_code
                except requests.RequestException as error:
                    outcome = type(error).__name__
                self.outcomes.append((started, outcome, time.monotonic() - started))
                if outcome != 200 and outcome != 201:
                    time.sleep(0.05)  # as a client would, a little, on errors

    def since(self, moment: float) -> list:
        return [o for o in self.outcomes if o[0] >= moment]

    def statuses(self, outcomes=None) -> set:
        if outcomes is None:
            outcomes = self.outcomes
        return {status for _, status, _ in outcomes}


def hammer(base_url: str, path: str, total: int, concurrency: int) -> dict:
    """``total`` GETs of ``path`` over ``concurrency`` keep-alive connections;
    how many of each status came back."""
    host, port = base_url.split("//")[1].split(":")
    counts = {}
    lock = threading.Lock()
    per_worker = [total // concurrency + (i < total % concurrency)
                  for i in range(concurrency)]

    def work(count):
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        seen = {}
        for _ in range(count):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
        connection.close()
        with lock:
            for status, n in seen.items():
                counts[status] = counts.get(status, 0) + n

    workers = [threading.Thread(target=work, args=(n,)) for n in per_worker]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts


@contextmanager
def running_stack(log_dir, amqp_uri=None, redis_uri=None, airports=1, trips=1,
                  **gateway_env):
    """A started ``Stack``: on ``amqp_uri`` and ``redis_uri``, or on a vhost and
    a Redis database of its own (``stack.vhost``, ``stack.database``); stopped
    and cleaned up afterwards."""
    vhost = None if amqp_uri else Vhost()
    database = None if redis_uri else RedisDatabase()
    stack = Stack(amqp_uri or vhost.uri, redis_uri or database.uri, log_dir,
                  **gateway_env)
    stack.vhost, stack.database = vhost, database
    try:
        yield stack.start(airports, trips)
    finally:
        stack.stop()
        if vhost:
            vhost.delete()
        if database:
            database.release()
