"""``python -m travel_common.probe`` as a real process against a real RabbitMQ.

The services it probes are started here with ``nameko run``, in the
session's RabbitMQ vhost (the ``vhost`` fixture).
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest

from travel_common.runstack import QUIET_EVENTLET

from support import RABBIT_HOST, RABBIT_PORT, Vhost

NAMEKO = os.path.join(os.path.dirname(sys.executable), "nameko")

SERVICES_MODULE = """
import time

from travel_common.rpc_entrypoint import rpc


class Answering:
    name = "probe_answering"

    @rpc
    def health(self):
        return {"redis": "up"}


class Slow:
    name = "probe_slow"

    @rpc
    def health(self):
        time.sleep(10)
        return {"redis": "up"}


class Failing:
    name = "probe_failing"

    @rpc
    def health(self):
        raise ConnectionError("Redis is down")
"""
SERVICE_NAMES = ("probe_answering", "probe_slow", "probe_failing")


def run_probe(service: str, amqp_uri: str | None, *args: str):
    # The environment is left as it is, warnings included: the probe's output
    # must be its one line all the same.
    env = dict(os.environ)
    env.pop("AMQP_URI", None)
    if amqp_uri is not None:
        env["AMQP_URI"] = amqp_uri
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "travel_common.probe", service, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return done, time.monotonic() - started


def consumed_queues(vhost: Vhost) -> set:
    return {name for name, (_, consumers) in vhost.queues().items() if consumers}


@pytest.fixture(scope="module")
def services(tmp_path_factory, vhost):
    """``nameko run`` of three services: answering, slow and failing."""
    workdir = tmp_path_factory.mktemp("probe_services")
    (workdir / "probe_services.py").write_text(SERVICES_MODULE)
    (workdir / "config.yml").write_text("AMQP_URI: %s\n" % vhost.uri)
    log = workdir / "nameko.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [NAMEKO, "run", "--config", "config.yml", "probe_services"],
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONWARNINGS=QUIET_EVENTLET),
            start_new_session=True,
        )
    try:
        wanted = {"rpc-" + name for name in SERVICE_NAMES}
        deadline = time.monotonic() + 30
        while not wanted <= consumed_queues(vhost):
            assert process.poll() is None, "nameko exited:\n" + log.read_text()
            assert time.monotonic() < deadline, "not up:\n" + log.read_text()
            time.sleep(0.3)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_answering_service_exits_0(services, vhost):
    done, elapsed = run_probe("probe_answering", vhost.uri)

    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "probe_answering: ok\n",
        "",
    )
    assert elapsed < 5


def test_service_not_running_exits_1_at_once(vhost):
    service = "nosuch_service_" + uuid.uuid4().hex[:8]

    done, elapsed = run_probe(service, vhost.uri)

    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        "unhealthy: %s is not running (no instance consumes its queue)\n" % service,
    )
    assert elapsed < 5  # not after the 5 s timeout


def test_default_broker_is_local_rabbitmq():
    service = "nosuch_service_" + uuid.uuid4().hex[:8]

    done, _ = run_probe(service, None)

    assert (done.returncode, done.stderr) == (
        1,
        "unhealthy: %s is not running (no instance consumes its queue)\n" % service,
    )


def test_service_answering_too_late_exits_1_after_timeout(services, vhost):
    done, elapsed = run_probe("probe_slow", vhost.uri, "--timeout", "1")

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "unhealthy: probe_slow did not answer within 1.0s "
        "(RabbitMQ at amqp://guest:****@%s:%d/%s)\n"
        % (RABBIT_HOST, RABBIT_PORT, vhost.name)
    )
    assert 1 <= elapsed < 5


def test_service_failing_its_health_check_exits_1(services, vhost):
    done, _ = run_probe("probe_failing", vhost.uri)

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("unhealthy: probe_failing is unhealthy: ")
    assert "Redis is down" in done.stderr
    assert done.stderr.count("\n") == 1


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_broker_unreachable_exits_1_without_showing_the_password():
    ports = unused_port(), unused_port()
    nodes = ["amqp://guest:s3cret@127.0.0.1:%d/" % port for port in ports]

    done, elapsed = run_probe("airports_service", ";".join(nodes))

    assert (done.returncode, done.stdout) == (1, "")
    masked = ";".join("amqp://guest:****@127.0.0.1:%d/" % port for port in ports)
    assert done.stderr.startswith("unhealthy: cannot reach RabbitMQ at %s: " % masked)
    assert "s3cret" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert elapsed < 10
