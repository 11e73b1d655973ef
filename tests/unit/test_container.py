"""``LeanServiceContainer``: the services' container runs a worker's steps in
nameko's order and logs its errors as nameko does, without the debug timers."""
import logging
import re
from pathlib import Path

import pytest
from nameko.containers import WorkerContext, get_container_cls
from nameko.extensions import DependencyProvider, Entrypoint
from nameko.testing.services import dummy
from nameko.testing.utils import get_extension

from travel_common.container import LeanServiceContainer

ROOT = Path(__file__).resolve().parents[2]
steps = []


class Steps(DependencyProvider):
    def worker_setup(self, worker_ctx):
        steps.append("setup")

    def get_dependency(self, worker_ctx):
        return steps.append

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        steps.append(("result", result, exc_info and exc_info[0]))

    def worker_teardown(self, worker_ctx):
        steps.append("teardown")


class Service:
    name = "service"
    step = Steps()

    @dummy
    def works(self, value):
        self.step("method %s" % value)
        return value * 2

    @dummy(expected_exceptions=LookupError)
    def fails(self, error):
        raise error


@pytest.fixture
def run():
    """Runs a worker of ``Service`` for ``method`` with ``args``; returns
    what was handed to ``handle_result`` (``result, exc_info``)."""
    steps.clear()
    container = LeanServiceContainer(Service, {})

    def run(method, *args):
        entrypoint = get_extension(container, Entrypoint, method_name=method)
        worker_ctx = WorkerContext(container, Service(), entrypoint, args, {})
        handled = []

        def handle_result(worker_ctx, result, exc_info):
            steps.append("handle_result")
            handled.append((result, exc_info))
            return result, exc_info

        container._run_worker(worker_ctx, handle_result)
        return handled[0]

    return run


def test_the_services_config_names_it():
    config = (ROOT / "compose" / "nameko.yml").read_text()
    path = re.search(r"^SERVICE_CONTAINER_CLS: (\S+)$", config, re.M).group(1)
    assert get_container_cls({"SERVICE_CONTAINER_CLS": path}) is LeanServiceContainer


def test_a_worker_runs_its_steps_in_nameko_order(run):
    assert run("works", 21) == (42, None)
    assert steps == ["setup", "method 21", "handle_result", ("result", 42, None),
                     "teardown"]


@pytest.mark.parametrize("error, level", [
    (KeyError("expected"), logging.WARNING),
    (RuntimeError("unexpected"), logging.ERROR),
])
def test_an_error_is_logged_as_nameko_does_and_handed_on(run, caplog, error, level):
    result, exc_info = run("fails", error)
    assert result is None and exc_info[1] is error
    assert steps == ["setup", "handle_result", ("result", None, type(error)),
                     "teardown"]
    [record] = [r for r in caplog.records if r.name == "nameko.containers"]
    assert record.levelno == level
    assert record.exc_info[1] is error
