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
import uuid
import warnings

with warnings.catch_warnings():  # eventlet's deprecation notice, at import
    warnings.simplefilter("ignore")
    from amqp.exceptions import AMQPError
    from kombu import Connection, Queue
    from nameko.exceptions import RpcTimeout, UnknownService
    from nameko.rpc import get_rpc_exchange
    from nameko.standalone.rpc import ClusterRpcProxy, SingleThreadedReplyListener

DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"


class ProbeReplyListener(SingleThreadedReplyListener):
    """A reply queue that goes with the probe's connection, not 5 minutes later."""

    def setup(self):
        self.routing_key = uuid.uuid4().hex
        self.queue = Queue(
            "rpc.reply-probe-" + self.routing_key,
            exchange=get_rpc_exchange(self.container.config),
            routing_key=self.routing_key,
            exclusive=True,
        )
        self.queue_consumer.register_provider(self)


class Deadline(BaseException):
    """The whole probe ran out of time (broker connection included)."""


def _on_alarm(signum, frame):
    raise Deadline()


def probe(service: str, amqp_uri: str, timeout: float) -> str | None:
    """``None`` when ``service`` answers ``health()``, else the reason it did not."""
    broker = "RabbitMQ at " + Connection(amqp_uri).as_uri()  # password masked
    config = {"AMQP_URI": amqp_uri}
    context = {"request_id": "probe"}  # marks the services' log lines of the call
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout + 1)
    try:
        with ClusterRpcProxy(
            config, context, timeout, reply_listener_cls=ProbeReplyListener
        ) as rpc:
            getattr(rpc, service).health()
    except UnknownService:
        return "%s is not running (no instance consumes its queue)" % service
    except (RpcTimeout, Deadline):
        return "%s did not answer within %ss (%s)" % (service, timeout, broker)
    except (OSError, AMQPError) as error:
        return "cannot reach %s: %s" % (broker, error)
    except Exception as error:
        return "%s is unhealthy: %s: %s" % (service, type(error).__name__, error)
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
