"""``make run``'s supervisor: three processes, prefixed logs, a clean stop."""
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
