"""The tutorial's cluster behaviour with real ``nameko run`` processes:
concurrent calls, ``max_workers``, instances sharing calls, two versions."""
import os
import time

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from support import BIN, QUIET, ROOT, Process, Vhost, count_consumers, wait_until

EXAMPLE = ROOT / "examples" / "greeting"
DELAY = 1.0  # seconds per call: rounds of calls stand out from any noise


@pytest.fixture
def greeting(tmp_path):
    """Starts greeting instances on a vhost of the test's own."""
    vhost = Vhost()
    started = []

    def start(module="greeting", **env):
        env = dict(os.environ, AMQP_URI=vhost.uri, PYTHONPATH=str(EXAMPLE),
                   **QUIET, **{"GREETING_DELAY": str(DELAY), **env})
        argv = [str(BIN / "nameko"), "run", "--config", str(EXAMPLE / "config.yml"),
                module]
        process = Process("%s-%d" % (module, len(started)), argv, env, tmp_path)
        started.append(process.start())
        wait_until(lambda: count_consumers(vhost, "greeting_service") == len(started),
                   30, interval=0.2, what="the instance to consume")
        return process

    start.vhost = vhost
    yield start
    for process in started:
        process.terminate()
    for process in started:
        process.stop()
    vhost.delete()


def call_many(vhost, count, prefix="n") -> tuple:
    """``count`` calls at once with ``call_async``: (answers, seconds taken)."""
    with ClusterRpcProxy({"AMQP_URI": vhost.uri}, timeout=30) as rpc:
        started = time.monotonic()
        replies = [rpc.greeting_service.hello.call_async(name="%s%d" % (prefix, i))
                   for i in range(count)]
        answers = [reply.result() for reply in replies]
        return answers, time.monotonic() - started


def rounds(seconds: float) -> int:
    return int(seconds // DELAY)


def test_hello_world(greeting):
    greeting(GREETING_DELAY="0")
    with ClusterRpcProxy({"AMQP_URI": greeting.vhost.uri}) as rpc:
        assert rpc.greeting_service.hello(name="world") == "Hello, world!"


def test_call_async_calls_run_concurrently(greeting):
    greeting()
    answers, seconds = call_many(greeting.vhost, 10)
    assert answers == ["Hello, n%d!" % i for i in range(10)]
    assert rounds(seconds) == 1  # ten slow calls, one round


def test_max_workers_bounds_concurrency_and_instances_share(greeting):
    first = greeting(MAX_WORKERS="10")
    answers, seconds = call_many(greeting.vhost, 20)
    assert len(answers) == 20
    assert rounds(seconds) == 2  # 20 calls, 10 at a time

    second = greeting(MAX_WORKERS="10")
    answers, seconds = call_many(greeting.vhost, 20, prefix="shared")
    assert rounds(seconds) == 1  # two instances: one round again
    for instance in (first, second):  # and both answered
        assert "hello shared" in instance.log()


def test_two_versions_side_by_side(greeting):
    greeting("greeting")
    greeting("greeting_v2")
    answers, _ = call_many(greeting.vhost, 20, prefix="x")
    assert {answer.endswith("! (v2)") for answer in answers} == {True, False}
    assert sorted(a.replace(" (v2)", "") for a in answers) == sorted(
        "Hello, x%d!" % i for i in range(20))
