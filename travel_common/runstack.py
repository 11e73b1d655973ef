"""``make run``: the airports service, the trips service and the gateway in the
foreground, each output line prefixed with its process's name.

A process that exits by itself is started again after a short back-off (as
docker compose's ``restart: unless-stopped`` does), the others untouched.
One that exits ``RESTART_LIMIT`` times within ``RESTART_WINDOW`` seconds is
given up on: all are stopped and the exit status is 1.  Ctrl-C or SIGTERM
stops all three (SIGTERM, then SIGKILL for any still running after
``STOP_GRACE`` seconds) and exits 0.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque

STOP_GRACE = 8.0
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0
FIRST_BACKOFF = 0.5  # seconds, doubled at each exit within the window
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


def describe(status: int) -> str:
    if status < 0:
        return "status %d (%s)" % (status, signal.Signals(-status).name)
    return "status %d" % status


class Output:
    """Lines written whole, each prefixed with its process's name."""

    def __init__(self, names):
        self.width = max(map(len, names))
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        with self.lock:
            sys.stdout.write(name.ljust(self.width) + " | " + text)
            sys.stdout.flush()

    def pump(self, name: str, stream) -> None:
        for line in iter(stream.readline, b""):
            self.line(name, line.decode(errors="replace"))


class Child:
    """One supervised process: its command, its current run, its exits."""

    def __init__(self, name: str, argv: list, env: dict, output: Output):
        self.name, self.argv, self.env, self.output = name, argv, env, output
        self.process = None
        self.pump = None
        self.exits = deque()  # monotonic times of recent exits
        self.restart_at = None  # when to start it again, after an exit

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
        )
        self.pump = threading.Thread(
            target=self.output.pump, args=(self.name, self.process.stdout),
            daemon=True,
        )
        self.pump.start()
        self.restart_at = None

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def exited(self, now: float) -> bool:
        """Note an exit and schedule the restart; False when it exited too
        often lately to start it again."""
        self.pump.join(2)  # its last lines first
        self.exits.append(now)
        while self.exits and self.exits[0] < now - RESTART_WINDOW:
            self.exits.popleft()
        status = describe(self.process.returncode)
        if len(self.exits) >= RESTART_LIMIT:
            self.output.line(self.name, "exited with %s, %d times within %d s; "
                             "giving up: stopping everything\n"
                             % (status, len(self.exits), RESTART_WINDOW))
            return False
        backoff = FIRST_BACKOFF * 2 ** (len(self.exits) - 1)
        self.output.line(self.name, "exited with %s; starting it again in %g s\n"
                         % (status, backoff))
        self.restart_at = now + backoff
        return True


def stop(children) -> None:
    running = [child for child in children if child.running]
    for child in running:
        child.process.send_signal(signal.SIGTERM)
    kill_at = time.monotonic() + STOP_GRACE
    for child in running:
        try:
            child.process.wait(max(0.0, kill_at - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.output.line(child.name, "did not stop in time; killing it\n")
            child.process.kill()
            child.process.wait()
    for child in running:  # their last lines, written as they stopped
        child.pump.join(2)


def run(processes: dict) -> int:
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    output = Output(processes)
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONWARNINGS=QUIET_EVENTLET)
    children = [Child(name, argv, env, output) for name, argv in processes.items()]
    for child in children:
        child.start()

    gave_up = False
    while not gave_up and not stopping.wait(0.2):
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
            elif not child.running and not child.exited(now):
                gave_up = True
                break
    stop(children)
    return 1 if gave_up else 0


def main() -> None:
    sys.exit(run(commands(os.path.dirname(sys.executable))))


if __name__ == "__main__":
    main()
