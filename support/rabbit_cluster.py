"""A RabbitMQ cluster of three nodes of its own, on this machine.

Each node has its own node name, AMQP and distribution ports, data and log
directories, configuration and enabled-plugins files; the cluster has its
own Erlang cookie (its own ``HOME``) and its own epmd port, so that neither
the machine's shared node nor another run is touched.  The nodes run as the
current user through the scripts RabbitMQ's Debian package keeps in its lib
directory (the wrappers on the PATH switch to the rabbitmq user and its
cookie).  The second and third node join the first at their first boot
(classic config peer discovery).

Partition settings, as shipped in ``compose/`` and ``k8s/``
(``PARTITION_CONFIG``, ``ADVANCED_CONFIG``):

- ``net_ticktime = 10``: the others drop a silent node within 7.5-12.5 s
  (60 s by default), and declarations elsewhere wait until then;
- ``autoheal``: when a node that was suspended (SIGSTOP, a paused VM) comes
  back, the partition it finds is healed by restarting the side with fewer
  clients (its own).  ``pause_minority`` does nothing then: the suspended
  node never sees the others go, and the cluster stays split until a node is
  restarted by hand (seen here, RabbitMQ 3.10: still split 3 minutes after a
  20 s freeze).  Autoheal in 3.10 heals such a partition within 12-60 s
  (seen here), though its state on the winner may stay "healing" after;
- ``autoheal_state_transition_timeout`` 10 s: a loser starts again after
  10 s without the winner's go (60 s by default; 3.10's winner can miss the
  loser's stop).

The ``rabbit_cluster`` fixture starts one for the test session, the first
time a test asks for it (the ``cluster`` group), and removes it at the end.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from travel_common.servers import answers

from support.waiting import free_port, wait_until

SCRIPTS = Path(os.environ.get("TEST_RABBIT_SCRIPTS", "/usr/lib/rabbitmq/bin"))
NET_TICKTIME = 10
BOOT_TIMEOUT = 120
ADVANCED_CONFIG = "[{rabbit, [{autoheal_state_transition_timeout, 10000}]}].\n"


PARTITION_CONFIG = (
    "net_ticktime = %d\n" % NET_TICKTIME
    + "cluster_partition_handling = autoheal\n"
)


class ClusterNode:
    """One node: its files, its ports, its server process."""

    def __init__(self, cluster: "RabbitCluster", index: int):
        self.cluster = cluster
        self.index = index
        self.name = cluster.node_names[index]
        self.port = free_port()
        self.dist_port = free_port()
        self.dir = cluster.dir / self.name.split("@")[0]
        self.dir.mkdir()
        self.process = None
        peers = "".join(
            "cluster_formation.classic_config.nodes.%d = %s\n" % (n, name)
            for n, name in enumerate(cluster.node_names, 1)
        )
        (self.dir / "rabbitmq.conf").write_text(
            "listeners.tcp.default = 127.0.0.1:%d\n" % self.port
            + "loopback_users = none\n"
            + PARTITION_CONFIG
            + "cluster_formation.peer_discovery_backend = classic_config\n"
            + peers
        )
        (self.dir / "advanced.config").write_text(ADVANCED_CONFIG)
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq-env.conf").write_text(
            'export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n'
        )

    def uri(self, vhost: str = "", user: str = "guest", password: str = "guest"):
        return "amqp://%s:%s@127.0.0.1:%d/%s" % (user, password, self.port, vhost)

    @property
    def env(self) -> dict:
        return dict(
            os.environ,
            HOME=str(self.cluster.home),
            ERL_EPMD_PORT=str(self.cluster.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_CONF_ENV_FILE=str(self.dir / "rabbitmq-env.conf"),
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.dir / "advanced.config"),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "pid"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
        )

    # -- the server process ----------------------------------------------
    def start(self):
        self.process = subprocess.Popen(
            [str(SCRIPTS / "rabbitmq-server")], env=self.env, cwd=self.dir,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # cwd: where Mnesia drops a core dump
        )

    @property
    def beam_pid(self) -> int:
        """The Erlang VM's pid, which the node writes to its pid file at boot
        (the script that started it stays in between, as its parent)."""
        return int((self.dir / "pid").read_text().strip())

    def answers(self) -> bool:
        return answers("127.0.0.1", self.port, timeout=0.5)

    def wait_booted(self, timeout: float = BOOT_TIMEOUT):
        wait_until(self.answers, timeout, interval=0.2,
                   what="node %s to accept connections" % self.name)
        wait_until(lambda: (self.dir / "pid").exists(), 10, what="its pid file")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """``kill -9``: the node is gone at once, its connections reset."""
        os.kill(self.beam_pid, signal.SIGKILL)
        self.process.wait(10)
        (self.dir / "pid").unlink()

    def freeze(self):
        """SIGSTOP: silent; its TCP connections stay open, nothing answers."""
        os.kill(self.beam_pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.beam_pid, signal.SIGCONT)

    def stop(self):
        """Stop the whole node; SIGKILL to the node and its script if it
        doesn't go (a node in the middle of autoheal may not answer)."""
        if not self.running():
            return
        try:
            self.thaw()
            self.ctl("stop", check=False, timeout=30)
            self.process.wait(30)
        except (subprocess.TimeoutExpired, OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def log(self) -> str:
        return "".join(path.read_text(errors="replace")
                       for path in sorted((self.dir / "log").glob("*.log")))

    # -- rabbitmqctl --------------------------------------------------------
    def ctl(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        done = subprocess.run(
            [str(SCRIPTS / "rabbitmqctl"), "-q", "-n", self.name, *args],
            env=self.env, capture_output=True, text=True, timeout=timeout,
        )
        if check and done.returncode != 0:
            raise RuntimeError("rabbitmqctl -n %s %s: %s%s" % (
                self.name, " ".join(args), done.stdout, done.stderr))
        return done.stdout


class RabbitCluster:
    """Three nodes (by default) clustered together; ``remove()`` stops them
    and deletes every file they wrote."""

    def __init__(self, size: int = 3):
        tag = uuid.uuid4().hex[:6]
        self.dir = Path(tempfile.mkdtemp(prefix="travel-cluster-"))
        self.home = self.dir / "home"
        self.home.mkdir()
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)
        self.epmd_port = free_port()
        self.node_names = ["travel-c%d-%s@localhost" % (n, tag)
                           for n in range(1, size + 1)]
        self.nodes = [ClusterNode(self, index) for index in range(size)]

    def start(self) -> "RabbitCluster":
        """Boot the first node, then the others, which join it."""
        first, *others = self.nodes
        first.start()
        first.wait_booted()
        for node in others:
            node.start()
        for node in others:
            node.wait_booted()
        self.wait_healthy(60)
        return self

    def healthy(self) -> bool:
        """Every node runs and counts all of them as running members.  Asked
        through one node, in one ``rabbitmqctl`` (each one starts an Erlang
        VM: polling every node with its own would load a busy machine)."""
        if not all(node.answers() for node in self.nodes):
            return False
        views = "lists:usort([catch lists:sort(rpc:call(N, rabbit_nodes, " \
            "all_running, [], 5000)) || N <- [%s]])." % ", ".join(
                "'%s'" % name for name in self.node_names)
        try:
            out = self.nodes[0].ctl("eval", views, timeout=30)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        names = ",".join("'%s'" % name for name in sorted(self.node_names))
        return "".join(out.split()) == "[[%s]]" % names

    def wait_healthy(self, timeout: float):
        wait_until(self.healthy, timeout, interval=1.0, what="a healthy cluster")

    def uri(self, first: int = 0, vhost: str = "", user: str = "guest",
            password: str = "guest") -> str:
        """``AMQP_URI`` listing every node, from node ``first`` on."""
        nodes = self.nodes[first:] + self.nodes[:first]
        return ";".join(node.uri(vhost, user, password) for node in nodes)

    def ctl(self, *args: str) -> str:
        """rabbitmqctl on a node that answers."""
        node = next(node for node in self.nodes if node.answers())
        return node.ctl(*args)

    def add_vhost(self, prefix: str = "travel-cluster") -> str:
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
        self.ctl("add_vhost", name)
        self.ctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        return name

    def vhost(self, prefix: str = "travel-cluster") -> "ClusterVhost":
        """A vhost of its own, shaped as ``support.Vhost`` (for the bench)."""
        return ClusterVhost(self, self.add_vhost(prefix))

    def queue_leaders(self, vhost: str) -> dict:
        """Quorum queue name -> the node name of its leader."""
        out = self.ctl("list_queues", "-p", vhost, "--no-table-headers",
                       "name", "type", "leader")
        rows = (line.split("\t") for line in out.splitlines() if "\t" in line)
        return {name: leader for name, kind, leader in rows if kind == "quorum"}

    def copy_logs(self, destination: Path):
        """The nodes' logs, copied to ``destination`` (for a test's report)."""
        for node in self.nodes:
            shutil.copytree(node.dir / "log", Path(destination) / node.name,
                            dirs_exist_ok=True)

    def remove(self):
        """Stop every node and the cluster's epmd; delete their files."""
        threads = [threading.Thread(target=node.stop) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        subprocess.run(["epmd", "-port", str(self.epmd_port), "-kill"],
                       capture_output=True, timeout=10, check=False,
                       env=dict(os.environ, ERL_EPMD_PORT=str(self.epmd_port)))
        shutil.rmtree(self.dir, ignore_errors=True)


class ClusterVhost:
    """``support.Vhost``'s interface, on the cluster: ``uri`` lists every node."""

    def __init__(self, cluster: RabbitCluster, name: str):
        self.cluster = cluster
        self.name = name
        self.uri = cluster.uri(vhost=name)

    def queues(self) -> dict:
        """Queue name -> (messages, consumers)."""
        out = self.cluster.ctl("list_queues", "-p", self.name, "--no-table-headers",
                               "name", "messages", "consumers")
        rows = (line.split("\t") for line in out.splitlines() if "\t" in line)
        return {name: (int(m), int(c)) for name, m, c in rows if m.isdigit()}

    def delete(self):
        self.cluster.ctl("delete_vhost", self.name)


@pytest.fixture(scope="session")
def rabbit_cluster():
    """A running three-node cluster, for the whole session."""
    if not (SCRIPTS / "rabbitmq-server").exists():
        pytest.skip("RabbitMQ's server scripts are not in %s (Debian's "
                    "rabbitmq-server package, or TEST_RABBIT_SCRIPTS)" % SCRIPTS)
    cluster = RabbitCluster()
    try:
        yield cluster.start()
    finally:
        cluster.remove()


if __name__ == "__main__":  # a cluster to try things by hand, until Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cluster = RabbitCluster()
    started = time.monotonic()
    try:
        cluster.start()
        print("up in %.1fs: %s" % (time.monotonic() - started, cluster.uri()),
              flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.remove()
