"""``scripts/ensure-services`` for real: it starts the machine's own
``rabbitmq-server`` and ``redis-server`` (on free ports, as a node and with a
data directory of their own: never the shared ones), and the Redis it starts
keeps the records across a restart."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

from support import ROOT, free_port, rabbitmqctl, running_stack, wait_until


@pytest.fixture
def own_servers(tmp_path):
    """The environment that points the script at servers of this test's own:
    a RabbitMQ node and a Redis port nothing answers on yet."""
    rabbit_dir = Path(tempfile.mkdtemp(prefix="travel-ensure-rabbit-"))
    rabbit_dir.chmod(0o777)  # the server drops to the rabbitmq user
    (rabbit_dir / "rabbitmq.conf").write_text("loopback_users = none\n")
    node = "travel-ensure-%s@localhost" % uuid.uuid4().hex[:8]
    rabbit_port, redis_port = free_port(), free_port()
    data_dir = tmp_path / "redis-data"
    env = dict(
        os.environ,
        AMQP_URI="amqp://guest:guest@127.0.0.1:%d/" % rabbit_port,
        REDIS_URI="redis://127.0.0.1:%d/0" % redis_port,
        REDIS_DATA_DIR=str(data_dir),
        # Where rabbitmq-server keeps this node, passed through by the script.
        RABBITMQ_NODENAME=node,
        RABBITMQ_DIST_PORT=str(free_port()),
        RABBITMQ_CONFIG_FILE=str(rabbit_dir / "rabbitmq.conf"),
        RABBITMQ_MNESIA_BASE=str(rabbit_dir / "mnesia"),
        RABBITMQ_LOG_BASE=str(rabbit_dir / "log"),
        RABBITMQ_PID_FILE=str(rabbit_dir / "pid"),
        RABBITMQ_ENABLED_PLUGINS_FILE=str(rabbit_dir / "plugins"),
    )
    try:
        yield env, data_dir
    finally:
        rabbitmqctl("-n", node, "stop", check=False)
        kill_redis(data_dir)
        shutil.rmtree(rabbit_dir, ignore_errors=True)


def kill_redis(data_dir: Path) -> None:
    try:
        os.kill(int((data_dir / "redis.pid").read_text()), signal.SIGKILL)
    except (FileNotFoundError, ProcessLookupError):
        pass


def ensure_services(env) -> list:
    done = subprocess.run([str(ROOT / "scripts" / "ensure-services")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    return done.stdout.splitlines()


def test_starts_both_and_redis_keeps_records_across_a_restart(own_servers,
                                                               tmp_path):
    env, data_dir = own_servers
    rabbit_port = env["AMQP_URI"].rsplit(":", 1)[1].strip("/")
    redis_port = env["REDIS_URI"].rsplit(":", 1)[1].split("/")[0]
    out = ensure_services(env)
    assert out[0] == "Starting RabbitMQ: rabbitmq-server -detached"
    assert out[1].startswith("Starting Redis, its data in %s: redis-server "
                             "--daemonize yes" % data_dir)
    assert out[2] == "RabbitMQ (127.0.0.1:%s) and Redis (127.0.0.1:%s) answer." % (
        rabbit_port, redis_port)
    with running_stack(tmp_path, env["AMQP_URI"], env["REDIS_URI"]) as stack:
        created = requests.post(stack.url + "/airport", json={"airport": "Kept"},
                                timeout=10)
        assert created.status_code == 201
        record = stack.url + "/airport/" + created.json()["id"]
        # As a machine that loses power: no shutdown; what was written over a
        # second ago (fsync every second) is on disk.
        wait_until(lambda: (data_dir / "appendonlydir").is_dir(), 2)
        time.sleep(1.5)
        kill_redis(data_dir)
        wait_until(lambda: requests.get(record, timeout=10).status_code == 503, 10,
                   what="the services to notice Redis gone")
        out = ensure_services(env)
        assert out[0].startswith("Starting Redis, its data in %s" % data_dir)
        assert len(out) == 2  # RabbitMQ answered: left alone
        wait_until(lambda: requests.get(record, timeout=10).status_code == 200, 10,
                   what="the record back")
        assert requests.get(record, timeout=10).json() == created.json()
