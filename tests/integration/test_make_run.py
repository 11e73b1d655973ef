"""``make run``'s supervisor: three processes, prefixed logs, a clean stop."""
import functools
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from support import QUIET, ROOT, RedisDatabase, Vhost, free_port, wait_until


@pytest.fixture
def run_stack(tmp_path):
    """``make run``'s processes, on a vhost and a Redis database of their own
    (on the session's, the session's services would answer for them)."""
    vhost, redis_db = Vhost(), RedisDatabase()
    port = free_port()
    env = dict(os.environ, AMQP_URI=vhost.uri, REDIS_URI=redis_db.uri,
               PORT=str(port), **QUIET)
    output = open(tmp_path / "run.log", "wb+")
    process = subprocess.Popen(
        [sys.executable, "-m", "travel_common.runstack"], cwd=ROOT, env=env,
        stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = "http://127.0.0.1:%d" % port

    def ready():
        try:
            return requests.get(url + "/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(ready, 30, interval=0.2, what="make run to serve")
        yield process, url, tmp_path / "run.log"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        output.close()
        vhost.delete()
        redis_db.release()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_then_stops_cleanly(run_stack, signum):
    process, url, log = run_stack
    created = requests.post(url + "/airport", data=b'{"airport": "x"}')
    assert created.status_code == 201
    children = subprocess.run(["pgrep", "-P", str(process.pid)],
                              capture_output=True, text=True).stdout.split()
    assert len(children) == 3
    started = time.monotonic()
    process.send_signal(signum)
    assert process.wait(10) == 0
    assert time.monotonic() - started < 10
    lines = log.read_text().splitlines()
    prefixes = {line.split("|")[0].strip() for line in lines if "|" in line}
    assert {"airports", "trips", "gateway"} <= prefixes
    assert any(line.startswith("gateway  | ") and "POST /airport 201" in line
               for line in lines)
    request_id = created.headers["X-Request-ID"]
    assert any(line.startswith("airports | ") and request_id in line for line in lines)
    for pid in children:  # and nothing is left running
        assert not os.path.exists("/proc/%s" % pid)


def children_by_name(supervisor_pid: int) -> dict:
    """The supervisor's children: name -> pid, told by their command lines."""
    pids = subprocess.run(["pgrep", "-P", str(supervisor_pid)],
                          capture_output=True, text=True).stdout.split()
    names = {"airports_svc": "airports", "trips_svc": "trips",
             "travel-gateway": "gateway"}
    found = {}
    for pid in pids:
        try:  # a child just killed may be reaped between pgrep and here
            cmdline = open("/proc/%s/cmdline" % pid, "rb").read().decode()
        except FileNotFoundError:
            continue
        found.update({name: int(pid) for key, name in names.items() if key in cmdline})
    return found


def restarted_and_serving(supervisor_pid, name, old_pid, url) -> bool:
    if children_by_name(supervisor_pid).get(name) in (None, old_pid):
        return False
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_process_is_started_again_alone(run_stack):
    """kill -9 of each process in turn: it is back and serving (through the
    gateway's real answers) within 5 s; the other two keep running."""
    process, url, log = run_stack
    airports = [requests.post(url + "/airport", json={"airport": name}).json()["id"]
                for name in ("Oslo", "Rome")]
    trip = requests.post(url + "/trip", json={
        "airport_from": airports[0], "airport_to": airports[1]}).json()["id"]
    serving = {"airports": "/airport/" + airports[0], "trips": "/trip/" + trip,
               "gateway": "/airport/" + airports[1]}
    recoveries = {}
    for name, path in serving.items():
        before = children_by_name(process.pid)
        assert set(before) == {"airports", "trips", "gateway"}
        killed = time.monotonic()
        os.kill(before[name], signal.SIGKILL)

        wait_until(functools.partial(restarted_and_serving, process.pid, name,
                                     before[name], url + path),
                   5, what="%s to serve again" % name)
        recoveries[name] = round(time.monotonic() - killed, 2)
        after = children_by_name(process.pid)
        assert {n: p for n, p in after.items() if n != name} == {
            n: p for n, p in before.items() if n != name}
    print("back and serving after kill -9, seconds:", recoveries)
    lines = log.read_text().splitlines()
    for name in serving:
        assert "%s | exited with status -9 (SIGKILL); starting it again in 0.5 s" % (
            name.ljust(8)) in lines
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0


GIVE_UP_DRIVER = """
import sys
from travel_common import runstack
runstack.FIRST_BACKOFF = 0.1  # 0.1, 0.2, 0.4, 0.8 s: the rule, sooner
sys.exit(runstack.run({
    "failing": ["sh", "-c", "echo cannot start; exit 3"],
    "steady": ["sh", "-c", "echo $$ > %s; exec sleep 60"],
}))
"""


def test_a_process_that_keeps_failing_is_given_up_on(tmp_path):
    """Five exits within the window: the others are stopped, exit status 1."""
    pid_file = tmp_path / "steady.pid"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", GIVE_UP_DRIVER % pid_file],
                          cwd=ROOT, capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "failing | cannot start",
        "failing | exited with status 3; starting it again in 0.1 s",
        "failing | cannot start",
        "failing | exited with status 3; starting it again in 0.2 s",
        "failing | cannot start",
        "failing | exited with status 3; starting it again in 0.4 s",
        "failing | cannot start",
        "failing | exited with status 3; starting it again in 0.8 s",
        "failing | cannot start",
        "failing | exited with status 3, 5 times within 60 s; giving up: stopping "
        "everything",
    ]
    assert elapsed < 5
    assert not os.path.exists("/proc/%s" % pid_file.read_text().strip())
