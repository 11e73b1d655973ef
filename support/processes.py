"""The project's own processes (``nameko run``, ``travel-gateway``), each with
its output in a log file."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from travel_common.runstack import QUIET_EVENTLET

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMEKO_CONFIG = str(ROOT / "compose" / "nameko.yml")
QUIET = {"PYTHONWARNINGS": QUIET_EVENTLET, "PYTHONUNBUFFERED": "1"}


class Process:
    """One of the project's processes, its output in a log file."""

    def __init__(self, name: str, argv: list, env: dict, log_dir: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = Path(log_dir) / ("%s.log" % name)
        self.popen = None
        self.terminating = False
        self.cwd = ROOT  # where it runs: the project's own modules come from there

    def start(self):
        self.terminating = False
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            cwd=self.cwd, start_new_session=True,
        )
        log.close()
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum):
        if self.running:
            os.kill(self.popen.pid, signum)

    def terminate(self):
        """SIGTERM, once: a second one cuts nameko's graceful stop short."""
        if self.running and not self.terminating:
            self.terminating = True
            self.popen.terminate()

    def stop(self, timeout: float = 15):
        """SIGTERM, then SIGKILL if still running after ``timeout``."""
        if not self.running:
            return
        self.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.running:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def service(module: str, name: str, env: dict, log_dir: Path) -> Process:
    """``nameko run`` of ``module`` with the project's nameko config (not started)."""
    argv = [str(BIN / "nameko"), "run", "--config", NAMEKO_CONFIG, module]
    return Process(name, argv, env, log_dir)


def stop_all(processes) -> None:
    """SIGTERM to all at once, then wait for each (SIGKILL if it lingers)."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop()
