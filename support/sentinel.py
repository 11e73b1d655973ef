"""A Sentinel-watched Redis for the tests: a primary, its replicas and three
Sentinels, each a real ``redis-server`` on a free port with a directory of its
own, all behind one password.  Tests may kill, pause and restart any of them;
``remove`` stops them all and deletes their directories.

The servers are configured as ``compose/`` and ``k8s/`` configure them (an
append-only file, ``min-replicas-to-write 1``), with the Sentinels' timings
shortened: a primary is down after 2 s of silence.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import redis

from support.waiting import free_port, wait_until

MASTER_NAME = "travel"
DOWN_AFTER_MS = 2000


class RedisProcess:
    """One ``redis-server`` (a data node or a Sentinel), from its config file."""

    def __init__(self, directory: Path, config: str, sentinel: bool = False):
        self.port = free_port()
        self.dir = directory
        self.dir.mkdir()
        self.conf = self.dir / ("sentinel.conf" if sentinel else "redis.conf")
        self.conf.write_text(
            "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n%s"
            % (self.port, self.dir, self.dir / "server.log", config)
        )
        self.argv = ["redis-server", str(self.conf)]
        if sentinel:
            self.argv.append("--sentinel")
        self.process = None

    def start(self, password: str):
        self.process = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_until(lambda: self.answers(password), 10, what="redis-server to answer")
        return self

    def client(self, password: str, **options) -> redis.Redis:
        options.setdefault("socket_timeout", 2)
        return redis.Redis(port=self.port, password=password, decode_responses=True,
                           **options)

    def answers(self, password: str) -> bool:
        try:
            with self.client(password, socket_timeout=0.5) as client:
                return client.ping()
        except redis.RedisError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """``kill -9``: no goodbye, the append-only file as it was."""
        if self.running:
            self.process.kill()
            self.process.wait(10)

    def pause(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def log(self) -> str:
        return (self.dir / "server.log").read_text(errors="replace")


class SentinelGroup:
    """A primary, ``replicas`` replicas and three Sentinels watching them."""

    def __init__(self, replicas: int = 2, sentinels: int = 3):
        self.root = Path(tempfile.mkdtemp(prefix="travel-sentinel-"))
        # ``secret`` is in the password however it is written; the password
        # has characters that must be percent-encoded in a URI, on purpose
        self.secret = uuid.uuid4().hex
        self.password = "pw/%s@:," % self.secret
        self.nodes = []
        self.sentinels = []
        try:
            primary = self._node("redis-0")
            self.nodes.append(primary)
            for number in range(1, replicas + 1):
                self.nodes.append(self._node("redis-%d" % number, primary.port))
            for number in range(sentinels):
                self.sentinels.append(self._sentinel(number, primary.port))
            wait_until(lambda: self._watching(replicas, sentinels), 30, interval=0.2,
                       what="the Sentinels to know every replica and each other")
        except BaseException:
            self.remove()
            raise

    def _node(self, name: str, primary_port: int | None = None) -> RedisProcess:
        config = [
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "requirepass %s" % self.password,
            "masterauth %s" % self.password,
            "min-replicas-to-write 1",
            "min-replicas-max-lag 10",
            "repl-diskless-sync-delay 0",  # a returning node syncs at once
        ]
        if primary_port:
            config.append("replicaof 127.0.0.1 %d" % primary_port)
        node = RedisProcess(self.root / name, "\n".join(config) + "\n")
        return node.start(self.password)

    def _sentinel(self, number: int, primary_port: int) -> RedisProcess:
        config = [
            "requirepass %s" % self.password,
            "sentinel sentinel-pass %s" % self.password,
            "sentinel monitor %s 127.0.0.1 %d 2" % (MASTER_NAME, primary_port),
            "sentinel auth-pass %s %s" % (MASTER_NAME, self.password),
            "sentinel down-after-milliseconds %s %d" % (MASTER_NAME, DOWN_AFTER_MS),
            "sentinel failover-timeout %s 10000" % MASTER_NAME,
            "sentinel parallel-syncs %s 1" % MASTER_NAME,
        ]
        sentinel = RedisProcess(self.root / ("sentinel-%d" % number),
                                "\n".join(config) + "\n", sentinel=True)
        return sentinel.start(self.password)

    def _watching(self, replicas: int, sentinels: int) -> bool:
        for sentinel in self.sentinels:
            with sentinel.client(self.password) as client:
                state = client.sentinel_master(MASTER_NAME)
            if (state["num-slaves"], state["num-other-sentinels"]) != (
                replicas, sentinels - 1
            ):
                return False
        return True

    def uri(self, db: int = 0) -> str:
        """``REDIS_URI`` for the services: every Sentinel, the password encoded."""
        hosts = ",".join("127.0.0.1:%d" % s.port for s in self.sentinels)
        return "redis+sentinel://:%s@%s/%s/%d" % (
            quote(self.password, safe=""), hosts, MASTER_NAME, db)

    def master_port(self) -> int | None:
        """The primary's port as the first Sentinel that answers tells it."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            try:
                with sentinel.client(self.password, socket_timeout=0.5) as client:
                    address = client.sentinel_get_master_addr_by_name(MASTER_NAME)
            except redis.RedisError:
                continue
            if address:
                return int(address[1])
        return None

    def node(self, port: int) -> RedisProcess:
        (node,) = [n for n in self.nodes if n.port == port]
        return node

    def primary(self) -> RedisProcess:
        return self.node(self.master_port())

    def replicas(self) -> list:
        """The nodes the primary now streams to (connected, in sync)."""
        with self.primary().client(self.password) as client:
            info = client.info("replication")
        ports = {info["slave%d" % i]["port"] for i in range(info["connected_slaves"])
                 if info["slave%d" % i]["state"] == "online"}
        return [self.node(port) for port in sorted(ports)]

    def remove(self):
        for process in self.sentinels + self.nodes:
            if process.running:
                process.resume()
            process.kill()
        shutil.rmtree(self.root, ignore_errors=True)
