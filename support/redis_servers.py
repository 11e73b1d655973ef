"""Redis for tests and bench: a database of its own on the shared server, or
a server of its own that a test may stop.  (Sentinel-watched groups:
``support.sentinel``.)"""
import os
import shutil
import subprocess
import tempfile

import redis

from support.waiting import free_port, wait_until

REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


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

    def client(self, **options) -> redis.Redis:
        """A client of this server's database 0, answering text."""
        return redis.Redis(port=self.port, decode_responses=True, **options)

    def stop(self):
        """Stop the server; its data stays for the next ``start``."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
