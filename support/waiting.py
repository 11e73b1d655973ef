"""Free ports, and waiting for a condition with a bound."""
import socket
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = ""):
    """``predicate()``'s first true value, polled every ``interval`` seconds;
    ``AssertionError`` naming ``what`` after ``timeout`` seconds."""
    give_up_at = time.monotonic() + timeout
    while time.monotonic() < give_up_at:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
