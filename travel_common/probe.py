"""Health probe of a nameko service: ``python -m travel_common.probe SERVICE``.

Calls ``SERVICE.health()`` over RPC (``AMQP_URI`` from the environment) and
exits 0 when it answers, or 1 with a one-line reason on stderr.  The call goes
to whichever instance takes it: this says that the service answers, not that
the instance in this container does.  Used as the containers' healthcheck and
as the Kubernetes exec probe.
"""

import argparse
import logging
import os
import signal
import sys
import time
import warnings

with warnings.catch_warnings():  # eventlet's deprecation notice, at import
    warnings.simplefilter("ignore")
    from amqp.exceptions import AMQPError
    from nameko.exceptions import RpcTimeout, UnknownService
    from nameko.standalone.rpc import ClusterRpcProxy

    from travel_common.nameko_adapter import ExclusiveReplyListener

from travel_common.call_context import DEADLINE, REQUEST_ID
from travel_common.logs import mask_secrets

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"


class ProbeReplyListener(ExclusiveReplyListener):
    """A reply queue that goes with the probe's connection, not 5 minutes later."""

    client = "probe"


class OutOfTime(BaseException):
    """The whole probe ran out of time (broker connection included)."""


def _on_alarm(signum, frame):
    raise OutOfTime()


def probe(service: str, amqp_uri: str, timeout: float) -> str | None:
    """``None`` when ``service`` answers ``health()``, else the reason it did
    not, without the password of any URL of ``amqp_uri``."""
    broker = "RabbitMQ at " + mask_secrets(amqp_uri)
    config = {"AMQP_URI": amqp_uri}
    # The request id marks the services' log lines of the call; an instance
    # that gets to it only after the probe gave up doesn't run it.
    context = {REQUEST_ID: "probe", DEADLINE: time.time() + timeout}
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout + 1)
    try:
        with ClusterRpcProxy(
            config, context, timeout, reply_listener_cls=ProbeReplyListener
        ) as rpc:
            getattr(rpc, service).health()
    except UnknownService:
        return "%s is not running (no instance consumes its queue)" % service
    except (RpcTimeout, OutOfTime):
        return "%s did not answer within %ss (%s)" % (service, timeout, broker)
    except (OSError, AMQPError) as error:
        return "cannot reach %s: %s" % (broker, mask_secrets(str(error)))
    except Exception as error:
        return "%s is unhealthy: %s: %s" % (
            service, type(error).__name__, mask_secrets(str(error)))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m travel_common.probe")
    parser.add_argument("service", help="nameko service name, e.g. airports_service")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds")
    args = parser.parse_args(argv)
    logging.disable(logging.ERROR)  # the line below is the whole report
    amqp_uri = os.environ.get("AMQP_URI") or DEFAULT_AMQP_URI
    reason = probe(args.service, amqp_uri, args.timeout)
    if reason is None:
        print("%s: ok" % args.service)
        return 0
    print("unhealthy: " + " ".join(reason.split()), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
