"""The tutorial's greeting service.

``GREETING_DELAY`` (seconds, default 0) makes each call sleep first: the
tutorial's slow variant, to watch calls run concurrently and instances share
them.
"""
import logging
import os
import time

from nameko.rpc import rpc

log = logging.getLogger(__name__)
DELAY = float(os.environ.get("GREETING_DELAY", "0"))


class GreetingService:
    name = "greeting_service"
    greeting = "Hello, {}!"

    @rpc
    def hello(self, name):
        log.info("hello %s", name)
        time.sleep(DELAY)
        return self.greeting.format(name)
