"""Which services have no instance, as RabbitMQ says: a watch of the
request queues' consumers, so that a call to such a service fails at once
(503) instead of waiting in the queue until its deadline (504).

Why a watch: a classic request queue is auto-delete, and the broker returns
a request for a service nobody runs (``mandatory``); a quorum queue can't
be auto-delete, and it takes requests whether or not anyone consumes them.
Its queue TTL (``x-expires``) would make it disappear only after the TTL
plus the quorum queues' tick (5 s by default on RabbitMQ 3.10: seen here,
up to 6 s for a TTL of 1 s), and a TTL that short would delete and create
the replicated queue again whenever its consumers reconnect.  The watch
asks instead, every ``PERIOD``, for the consumers of each queue its owner
calls (a passive ``queue.declare``, each answer awaited at most
``ANSWER_TIMEOUT``: ``travel_common.amqp_adapter``), on a connection of its
own.  A service is idle once every answer for ``CONFIRMED_AFTER`` seconds
said 0: RabbitMQ 3.10 also answers 0 for a quorum queue whose leader did not
reply within 250 ms (being elected, or busy).  Answers count for ``FRESH`` seconds: when
the watch can't ask (a node lost, a slow broker), calls are sent as usual.

It runs in a thread: a real one in the gateway, a green one in a nameko
service (eventlet patches ``threading``).
"""

import logging
import threading
import time

from travel_common.amqp_adapter import queue_consumers
from travel_common.amqp_nodes import NodeList, connected_node, dropped_on_error
from travel_common.broker import BROKER_ERRORS

log = logging.getLogger(__name__)

PERIOD = 0.1  # seconds between two rounds of questions
CONFIRMED_AFTER = 0.5  # seconds of answers of 0 before a service is idle
FRESH = 1.0  # seconds an answer counts
# Seconds from the last instance going to the watch calling its service idle.
LAG = CONFIRMED_AFTER + 2 * PERIOD
ANSWER_TIMEOUT = 1.0  # seconds the broker has to answer one question


class ConsumerWatch:
    def __init__(self, nodes: NodeList, queue_name=lambda service: "rpc-" + service):
        self.nodes = nodes
        self.queue_name = queue_name
        self._answered = {}  # service -> time.monotonic() of the last answer
        self._zero_since = {}  # service -> time of the first 0 of the last ones
        self._watched = set()
        self._stopping = threading.Event()
        self._thread = None

    def watch(self, *services: str) -> None:
        """Watch these services from now on."""
        self._watched.update(services)

    def idle(self, service: str) -> bool:
        """Whether a fresh answer says that no instance of ``service`` consumes
        its queue.  The first question about a service starts watching it."""
        if service not in self._watched:
            self._watched.add(service)
        now = time.monotonic()
        since = self._zero_since.get(service)
        return (since is not None and now - since >= CONFIRMED_AFTER
                and now - self._answered[service] < FRESH)

    def answered(self, service: str) -> None:
        """A reply of ``service``'s just came: an instance consumes its queue,
        whatever the last answers said (a started instance is seen up to a
        round of questions late)."""
        self._zero_since.pop(service, None)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="consumer-watch", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(ANSWER_TIMEOUT * 3)

    def _run(self):
        while not self._stopping.is_set():
            node = None
            try:
                with dropped_on_error(self.nodes.connection()) as connection:
                    self.nodes.connect_once(connection)
                    node = connected_node(connection)
                    channel = connection.channel()
                    while not self._stopping.wait(PERIOD):
                        for service in list(self._watched):
                            self._record(service, queue_consumers(
                                channel, self.queue_name(service), ANSWER_TIMEOUT))
            except BROKER_ERRORS as error:
                log.debug("consumer watch: %s", error)
                if node is not None:
                    self.nodes.demote(node)
                self._stopping.wait(PERIOD)

    def _record(self, service: str, consumers: int):
        now = time.monotonic()
        if consumers:
            self._zero_since.pop(service, None)
        else:
            self._zero_since.setdefault(service, now)
        self._answered[service] = now
