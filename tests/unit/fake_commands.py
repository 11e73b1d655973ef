"""Stand-ins for apt-get, sudo, docker, rabbitmq-server and redis-server, for
the tests of ``travel_common.ensure_services``: ``fake_commands.py NAME ARGS``.

Each records its command line (a JSON list per line of the state's ``log``)
and acts as the real one would, as far as the script can tell: a server that
starts listens on its port (held by a child process that outlives the
command, as a daemon would; its pid goes to the state's ``pids`` file); apt-get
installs a package by putting its fake server command on ``PATH``.

The state file (``FAKE_STATE``): {"log", "pids", "bin", "ports": {compose
service: port}, "postinst_starts": bool, "sudo": "ok" | "password",
"docker_works": bool}.
"""
import json
import os
import socket
import subprocess
import sys

PACKAGE_SERVICE = {"rabbitmq-server": "rabbitmq", "redis-server": "redis"}


def command_script(name: str) -> str:
    """The text of the executable that runs this fake as ``name``."""
    return '#!/bin/sh\nexec "%s" "%s" %s "$@"\n' % (
        sys.executable, os.path.abspath(__file__), name)


def install_command(bin_dir: str, name: str) -> None:
    path = os.path.join(bin_dir, name)
    with open(path, "w") as script:
        script.write(command_script(name))
    os.chmod(path, 0o755)


def listen(state: dict, port: int) -> None:
    """Listen on ``port`` from a child that holds the socket for a while."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        pass_fds=[sock.fileno()], start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with open(state["pids"], "a") as pids:
        pids.write("%d\n" % child.pid)


def main(name: str, args: list) -> int:
    state = json.load(open(os.environ["FAKE_STATE"]))
    with open(state["log"], "a") as log:
        log.write(json.dumps([name, *args]) + "\n")
    if name == "sudo":
        assert args[0] == "-n", args
        if state["sudo"] == "password":
            print("sudo: a password is required", file=sys.stderr)
            return 1
        command, env = args[1:], dict(os.environ)
        if command[0] == "env":
            command = command[1:]
            while "=" in command[0]:
                variable, _, value = command.pop(0).partition("=")
                env[variable] = value
        if command == ["true"]:
            return 0
        os.execvpe(command[0], command, env)
    if name == "apt-get":
        if args[0] == "install":
            for package in (arg for arg in args[1:] if not arg.startswith("-")):
                install_command(state["bin"], package)
                if state["postinst_starts"]:
                    listen(state, state["ports"][PACKAGE_SERVICE[package]])
        return 0
    if name == "docker":
        if args == ["info"]:
            return 0 if state["docker_works"] else 1
        listen(state, state["ports"][args[-1]])  # compose ... up -d --wait NAME
        return 0
    if name == "rabbitmq-server":
        listen(state, int(os.environ.get("RABBITMQ_NODE_PORT", "5672")))
        return 0
    if name == "redis-server":
        listen(state, int(args[args.index("--port") + 1]))
        return 0
    raise SystemExit("no fake for %s" % name)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
