"""RabbitMQ for tests and bench: a virtual host of its own on the shared
broker, or a node of its own that a test may stop."""
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from kombu import Connection
from kombu.exceptions import ChannelError

from travel_common.servers import answers

from support.waiting import free_port, wait_until

RABBIT_HOST = os.environ.get("TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("TEST_RABBIT_PORT", "5672"))


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
            ["rabbitmq-server"], env=env, cwd=self.dir, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # cwd: where Mnesia drops a core dump
        self.uri = "amqp://guest:guest@127.0.0.1:%d/" % self.port
        wait_until(self.answers, 60, interval=0.2, what="the RabbitMQ node to start")

    def answers(self) -> bool:
        return answers("127.0.0.1", self.port, timeout=0.5)

    def ctl(self, *args: str, check: bool = True) -> str:
        return rabbitmqctl("-n", self.name, *args, check=check)

    def stop(self):
        self.ctl("stop")
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
