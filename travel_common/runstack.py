"""``make run``: the airports service, the trips service and the gateway in the
foreground, each output line prefixed with its process's name.

Ctrl-C or SIGTERM stops all three (SIGTERM, then SIGKILL for any still running
after ``STOP_GRACE`` seconds) and exits 0. If one of them dies by itself, the
others are stopped too and the exit status is 1.
"""

import os
import signal
import subprocess
import sys
import threading
import time

STOP_GRACE = 8.0
NAMEKO_CONFIG = os.path.join("compose", "nameko.yml")
# eventlet warns, as nameko 2 imports it, that it is deprecated: noise in logs.
QUIET_EVENTLET = ",".join(
    "ignore::Warning:" + module
    for module in ("nameko.containers", "nameko.cli.commands", "nameko.rpc")
)


def commands(bin_dir: str) -> dict:
    nameko = os.path.join(bin_dir, "nameko")
    return {
        "airports": [nameko, "run", "--config", NAMEKO_CONFIG, "airports_svc.service"],
        "trips": [nameko, "run", "--config", NAMEKO_CONFIG, "trips_svc.service"],
        "gateway": [os.path.join(bin_dir, "travel-gateway")],
    }


def _pump(name: str, width: int, stream, lock: threading.Lock) -> None:
    prefix = name.ljust(width) + " | "
    for line in iter(stream.readline, b""):
        with lock:
            sys.stdout.write(prefix + line.decode(errors="replace"))
            sys.stdout.flush()


def run(processes: dict) -> int:
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    lock = threading.Lock()
    width = max(map(len, processes))
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONWARNINGS=QUIET_EVENTLET)
    children = {}
    pumps = []
    for name, argv in processes.items():
        child = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
        )
        children[name] = child
        pump = threading.Thread(
            target=_pump, args=(name, width, child.stdout, lock), daemon=True
        )
        pump.start()
        pumps.append(pump)

    failed = None
    while not stopping.wait(0.2):
        failed = next((n for n, c in children.items() if c.poll() is not None), None)
        if failed:
            print(
                "%s exited with status %s; stopping the others"
                % (failed, children[failed].returncode),
                flush=True,
            )
            break

    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for name, child in children.items():
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print("%s did not stop in time; killing it" % name, flush=True)
            child.kill()
            child.wait()
    for pump in pumps:  # their last lines, written as they stopped
        pump.join(2)
    return 1 if failed else 0


def main() -> None:
    sys.exit(run(commands(os.path.dirname(sys.executable))))


if __name__ == "__main__":
    main()
