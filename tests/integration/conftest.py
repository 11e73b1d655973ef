"""The one way a test module gets a stack of its own."""
import contextlib

import pytest

from support import running_stack


@pytest.fixture(scope="module")
def stack_factory(tmp_path_factory):
    """``stack_factory(**options)``: a started stack of the module's own
    (``support.running_stack``'s options: ``amqp_uri``/``redis_uri``, else a
    vhost and a Redis database of its own; ``airports``/``trips`` instances;
    ``env``, ``service_env`` and the gateway's environment); every stack it
    started is stopped and cleaned up when the module's tests are done."""
    with contextlib.ExitStack() as started:

        def start(**options):
            logs = tmp_path_factory.mktemp("stack-logs")
            return started.enter_context(running_stack(logs, **options))

        yield start
