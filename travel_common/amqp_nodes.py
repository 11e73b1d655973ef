"""The RabbitMQ nodes of ``AMQP_URI``, in this process's order of preference.

``AMQP_URI`` may list the nodes of one cluster separated by ``;`` (kombu's
failover syntax).  Each process takes them in an order of its own, shuffled
once when the process first asks (``AMQP_NODE_ORDER=shuffle``, the default),
so that the processes of a deployment spread over the nodes instead of all
crowding the first; ``listed`` keeps the order given.  When a connection to
a node is lost, that node moves to the end of the process's list: the next
connection goes to another node first, instead of waiting for a node that
may be silent to time out again.

Every connection made from here is bounded in time: the TCP connect and the
AMQP handshake give up after ``CONNECT_TIMEOUT`` (a frozen node accepts the
TCP connection in its kernel but never answers), and connections carry AMQP
heartbeats (``AMQP_HEARTBEAT``) so that a node that falls silent later is
noticed without traffic.  A lost connection is replaced after
``RECONNECT_DELAY``.
"""

import random
import threading
from contextlib import contextmanager
from urllib.parse import urlsplit

from kombu import Connection

ORDERS = ("shuffle", "listed")
DEFAULT_ORDER = "shuffle"
# Seconds between heartbeats: a connection is given up after two missed ones.
DEFAULT_HEARTBEAT = 5.0
# Seconds for the TCP connect, and again for the AMQP handshake.
CONNECT_TIMEOUT = 2.0
# Seconds between losing a connection and opening the next one.  RabbitMQ
# 3.10 elects new leaders for the quorum queues of a lost node within a
# fraction of a second; a channel opened before that can drop what it is
# sent for net_ticktime + 5 s (seen here after a kill -9).
RECONNECT_DELAY = 1.5


def _node(host: str | None, port: int | None) -> str:
    # kombu connects to 127.0.0.1 for "localhost", and says so afterwards.
    return "%s:%s" % ("127.0.0.1" if host == "localhost" else host, port or 5672)


def node_of(url: str) -> str:
    """``host:port`` of one URL of the list (its identity as a node)."""
    parts = urlsplit(url.strip())
    return _node(parts.hostname, parts.port)


class NodeList:
    """The URLs of one ``AMQP_URI``, most preferred first."""

    def __init__(self, amqp_uri: str, order: str = DEFAULT_ORDER):
        if order not in ORDERS:
            raise ValueError("AMQP_NODE_ORDER must be one of %s, not %r"
                             % (", ".join(ORDERS), order))
        self.urls = [url.strip() for url in amqp_uri.split(";") if url.strip()]
        if not self.urls:
            raise ValueError("AMQP_URI names no node")
        if order == "shuffle":
            random.shuffle(self.urls)
        self._lock = threading.Lock()

    @property
    def uri(self) -> str:
        """The list as a kombu failover URI, most preferred node first."""
        return ";".join(self.urls)

    def demote(self, node: str) -> None:
        """Move ``node`` (``host:port``) to the end: it was just lost."""
        with self._lock:
            lost = [url for url in self.urls if node_of(url) == node]
            if lost and len(lost) < len(self.urls):
                kept = [url for url in self.urls if node_of(url) != node]
                self.urls = kept + lost

    def connection(self, heartbeat: float | None = None, **options) -> Connection:
        """A kombu connection (not yet connected) over the list, bounded in time."""
        return Connection(self.uri, heartbeat=heartbeat or 0,
                          connect_timeout=CONNECT_TIMEOUT, **options)

    def connect_once(self, connection: Connection) -> None:
        """Connect ``connection`` (made by ``connection()``) to the first node
        that answers, each node tried once and at once (left to itself, kombu
        waits 2 s before retrying a refused connection); the last node's error
        when none answers."""
        connection.ensure_connection(max_retries=len(self.urls), interval_start=0,
                                     interval_step=0, interval_max=0)


_lists: dict = {}
_lists_lock = threading.Lock()


def nodes_for(amqp_uri: str, order: str | None = None) -> NodeList:
    """This process's one ``NodeList`` for ``amqp_uri``, shared by all its
    connections; made (and shuffled) on the first call, in ``order``."""
    with _lists_lock:
        nodes = _lists.get(amqp_uri)
        if nodes is None:
            nodes = _lists[amqp_uri] = NodeList(amqp_uri, order or DEFAULT_ORDER)
        return nodes


def connected_node(connection: Connection) -> str:
    """``host:port`` of the node a kombu connection is on now."""
    return _node(connection.hostname, connection.port)


@contextmanager
def dropped_on_error(connection: Connection):
    """``connection`` for a block: closed when the block ends, or, when it
    raises, dropped: its socket closed without the goodbye (channel.close,
    connection.close) that kombu waits for, forever on a silent node."""
    try:
        yield connection
    except BaseException:
        # kombu 5.7: Connection.collect, the socket closed without a goodbye
        connection.collect()
        raise
    connection.release()
