"""This machine as ``ensure_services`` sees it: its commands and this user's
powers (standard library only: it runs before the virtual environment
exists)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # where commands run


class Machine:
    """This machine as the script sees it: its commands (on ``PATH``) and
    this user's powers; runs commands and reports."""

    def __init__(self, environ: dict, euid: int):
        self.environ, self.euid = environ, euid
        self._sudo = None
        self._apt_updated = False

    def say(self, line: str) -> None:
        print(line, flush=True)

    def complain(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def has(self, command: str) -> bool:
        return shutil.which(command, path=self.environ.get("PATH", "")) is not None

    def run(self, argv, quiet: bool = True, probe: bool = False, **env) -> bool:
        """Run ``argv`` (its output shown unless ``quiet``); when it fails,
        unless it was only a ``probe``, say so with the end of its output."""
        done = subprocess.run(
            argv, env=dict(self.environ, **env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None, cwd=ROOT,
        )
        if done.returncode != 0 and not probe:
            tail = (done.stdout or b"").decode(errors="replace").strip()
            tail = "\n".join(tail.splitlines()[-5:])
            self.complain("`%s` failed (exit status %d)%s" % (
                shlex.join(argv), done.returncode, (":\n" + tail) if tail else ""))
        return done.returncode == 0

    def as_root(self) -> list | None:
        """The prefix that runs a command as root: [] for root, ``sudo -n``
        when it needs no password, else None."""
        if self.euid == 0:
            return []
        if self._sudo is None:
            self._sudo = self.has("sudo") and self.run(
                ["sudo", "-n", "true"], probe=True
            )
        return ["sudo", "-n"] if self._sudo else None

    def can_install(self) -> bool:
        return self.has("apt-get") and self.as_root() is not None

    def install(self, package: str) -> bool:
        prefix = self.as_root()
        if prefix:  # sudo resets the environment; env sets it again
            prefix = prefix + ["env", "DEBIAN_FRONTEND=noninteractive"]
        install = ["apt-get", "install", "-y", "-q", package]
        self.say("Installing %s from the distribution's packages: %s"
                 % (package, shlex.join(install)))
        if not self._apt_updated:
            if not self.run(prefix + ["apt-get", "update", "-q"], quiet=False,
                            DEBIAN_FRONTEND="noninteractive"):
                return False
            self._apt_updated = True
        return self.run(prefix + install, quiet=False,
                        DEBIAN_FRONTEND="noninteractive")

    def docker_works(self) -> bool:
        return self.has("docker") and self.run(["docker", "info"], probe=True)
