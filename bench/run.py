"""``make bench``: the whole stack on its own vhost and Redis db, under wrk.

Environment (all optional):
``BENCH_DURATION`` (``5s``) per measurement; ``BENCH_CONNS`` (``1,8,32,128``);
``BENCH_CALLS`` (all: ``get_airport,post_airport,post_trip,list_airports``);
``BENCH_REQUESTS`` (``100000``) for the memory / reply-queue run, which
stops anyway after ``BENCH_SOAK_LIMIT`` (``300s``);
``BENCH_OVERLOAD`` (``512``) connections for the overload run;
``BENCH_DIRECT`` (``1``): also measure the direct-RPC ceiling;
``BENCH_AIRPORTS`` / ``BENCH_TRIPS`` (``1``): service instances;
``BENCH_CLUSTER=1``: on a RabbitMQ cluster of three nodes of the bench's
own (``tests/rabbit_cluster.py``; about 20 s to start) instead of the local
broker; ``RPC_QUEUE_TYPE`` (``classic``/``quorum``) reaches the services as
usual, so that the two queue types compare on one node and on three;
``BENCH_LABEL``: a name for the results file and heading.
Any ``BENCH_LOOP``/``BENCH_HTTP``/``BENCH_WORKERS``/``BENCH_JSON``/
``BENCH_DELIVERY`` runs the variant in ``bench.gateway``;
``RPC_MAX_IN_FLIGHT``, ``RPC_QUEUE_LIMIT`` and ``MAX_WORKERS`` reach the gateway
and the services as usual.
"""

import datetime
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import report
from bench.procs import cpu_seconds, rss_kib
from tests.support import BIN, Process, RedisDatabase, Vhost, free_port, service

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WRK_SCRIPT = str(ROOT / "bench" / "wrk.lua")
VARIANT_VARS = ("BENCH_LOOP", "BENCH_HTTP", "BENCH_WORKERS", "BENCH_JSON",
                "BENCH_DELIVERY")
CALLS = {
    "get_airport": "GET /airport/<id>",
    "post_airport": "POST /airport",
    "post_trip": "POST /trip",
    "list_airports": "GET /airports",
}


def env_list(name: str, default: str) -> list:
    return [item.strip() for item in os.environ.get(name, default).split(",")
            if item.strip()]


def seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    if duration[-1] in units:
        return float(duration[:-1]) * units[duration[-1]]
    return float(duration)


def start_cluster():
    """A three-node RabbitMQ cluster of the bench's own."""
    # The test support modules import each other by name, as pytest runs them.
    sys.path.insert(0, str(ROOT / "tests"))
    from rabbit_cluster import RabbitCluster

    print("starting a RabbitMQ cluster of three nodes", flush=True)
    return RabbitCluster().start()


class Bench:
    def __init__(self, workdir: Path, cluster=None):
        self.workdir = workdir
        self.duration = os.environ.get("BENCH_DURATION", "5s")
        self.cluster = cluster
        self.vhost = cluster.vhost("travel-bench") if cluster else Vhost("travel-bench")
        self.redis = RedisDatabase()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, AMQP_URI=self.vhost.uri, REDIS_URI=self.redis.uri,
                   PYTHONUNBUFFERED="1", HOST="127.0.0.1", PORT=str(self.port))
        env.pop("API_KEYS", None)
        env.setdefault("PYTHONWARNINGS", "ignore")
        self.services = []
        count = 0
        for module, var in (("airports_svc.service", "BENCH_AIRPORTS"),
                            ("trips_svc.service", "BENCH_TRIPS")):
            for _ in range(int(os.environ.get(var, "1"))):
                count += 1
                name = "%s-%d" % (module.split(".")[0], count)
                self.services.append(service(module, name, env, workdir).start())
        self.env = env
        self.variant = {var: os.environ[var] for var in VARIANT_VARS
                        if os.environ.get(var)}
        argv = ([sys.executable, "-m", "bench.gateway"] if self.variant
                else [str(BIN / "travel-gateway")])
        self.gateway = Process("gateway", argv, env, workdir).start()
        self.extra = []

    def add_gateway(self, name: str, variant: dict) -> "Bench":
        """One more gateway on the same services, with ``variant``'s settings:
        a view of this bench that drives it instead."""
        port = free_port()
        env = dict(self.env, BENCH_LOOP="uvloop", PORT=str(port))
        env.update(variant)
        argv = [sys.executable, "-m", "bench.gateway"]
        view = object.__new__(Bench)
        view.__dict__.update(self.__dict__)
        view.port, view.url = port, "http://127.0.0.1:%d" % port
        view.gateway = Process(name, argv, env, self.workdir).start()
        self.extra.append(view.gateway)
        return view

    def stop(self):
        processes = (self.gateway, *self.extra, *self.services)
        for process in processes:
            process.terminate()
        for process in processes:
            process.stop()
        self.vhost.delete()
        self.redis.release()

    def wait_ready(self, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/ready", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("the stack did not get ready; logs in %s" % self.workdir)

    # -- the data and the request files ---------------------------------
    def seed(self, airports: int = 50):
        self.ids = []
        for n in range(airports):
            done = requests.post(self.url + "/airport",
                                 json={"airport": "Seed %d" % n}, timeout=10)
            done.raise_for_status()
            self.ids.append(done.json()["id"])
        rnd = random.Random(4)
        pairs = [rnd.sample(self.ids, 2) for _ in range(200)]
        http = {
            "get_airport": ["GET\t/airport/%s" % i for i in self.ids],
            "post_airport": ['POST\t/airport\t{"airport": "Bench %d"}' % n
                             for n in range(200)],
            "post_trip": ['POST\t/trip\t{"airport_from": "%s", "airport_to": "%s"}'
                          % tuple(pair) for pair in pairs],
            "list_airports": ["GET\t/airports?limit=20"],
            "health": ["GET\t/health"],
        }
        http["mix"] = [line for name in CALLS for line in http[name][:50]]
        http["soak"] = http["get_airport"][:50] + http["post_airport"][:50]
        rpc = {
            "get_airport": [["airports_service", "get", [i], {}] for i in self.ids],
            "post_airport": [["airports_service", "create", ["Bench %d" % n], {}]
                             for n in range(200)],
            "post_trip": [["trips_service", "create", pair, {}] for pair in pairs],
            "list_airports": [["airports_service", "list", [], {"limit": 20}]],
        }
        self.rpc_calls = rpc
        self.files = {}
        for kind, table in (("http", http), ("rpc", rpc)):
            for name, lines in table.items():
                path = self.workdir / ("%s-%s.txt" % (kind, name))
                path.write_text("\n".join(
                    line if kind == "http" else json.dumps(line) for line in lines
                ) + "\n")
                self.files[kind, name] = str(path)

    # -- measurements ----------------------------------------------------
    def wrk(self, name: str, conns: int, duration=None) -> dict:
        argv = ["wrk", "-t1", "-c%d" % conns, "-d%s" % (duration or self.duration),
                "--timeout", "10s", "-s", WRK_SCRIPT, self.url,
                "--", self.files["http", name]]
        cpu_before = cpu_seconds(self.gateway.popen.pid)
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("wrk failed: %s %s" % (done.stdout, done.stderr))
        result = report.parse(done.stdout)
        used = cpu_seconds(self.gateway.popen.pid) - cpu_before
        result["cpu_ms"] = used * 1000 / max(result["requests"], 1)
        return result

    def direct(self, name: str, conns: int) -> dict:
        argv = [sys.executable, "-m", "bench.direct", self.vhost.uri,
                self.files["rpc", name], str(conns), str(seconds(self.duration))]
        done = subprocess.run(argv, capture_output=True, text=True, check=True,
                              cwd=ROOT, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        return report.parse(done.stdout)

    def soak(self, total: int, limit: float, conns: int = 32) -> dict:
        """wrk runs of GET and POST /airport, 10 s each, until ``total`` requests
        are done (or ``limit`` seconds have passed, on a slow machine)."""
        runs, deadline = [], time.monotonic() + limit
        while (sum(run["requests"] for run in runs) < total
               and time.monotonic() < deadline):
            runs.append(self.wrk("soak", conns, duration="10s"))
        summed = dict(runs[-1], status={})
        for key in ("requests", "duration_us", "non_2xx", "socket_errors"):
            summed[key] = sum(run[key] for run in runs)
        summed["rps"] = summed["requests"] / (summed["duration_us"] / 1e6)
        return summed

    def reply_queues(self) -> int:
        """Reply queues with a consumer: the gateway's proxies' and the trips
        service's.  (Those of the finished direct-RPC runs have none; nameko
        lets them expire after 5 minutes.)"""
        return sum(1 for name, (_, consumers) in self.vhost.queues().items()
                   if name.startswith("rpc.reply") and consumers)

    def answer_times(self, since: int) -> dict:
        """The gateway's own time to answer, from its access log lines after
        offset ``since``: sorted milliseconds by status."""
        times = {}
        for match in re.finditer(r" (\d{3}) ([\d.]+)ms$", self.gateway.log()[since:],
                                 re.MULTILINE):
            times.setdefault(int(match.group(1)), []).append(float(match.group(2)))
        return {status: sorted(values) for status, values in times.items()}

    def rss(self) -> int:
        return rss_kib(self.gateway.popen.pid)


def run(bench: Bench) -> str:
    conns_levels = [int(c) for c in env_list("BENCH_CONNS", "1,8,32,128")]
    calls = env_list("BENCH_CALLS", ",".join(CALLS))
    with_direct = os.environ.get("BENCH_DIRECT", "1") != "0"
    total = int(os.environ.get("BENCH_REQUESTS", "100000"))
    overload = int(os.environ.get("BENCH_OVERLOAD", "512"))

    bench.wait_ready()
    bench.seed()
    rows = []
    print("warming up", flush=True)
    bench.wrk("mix", 32, duration="3s")
    for name in calls:
        for conns in conns_levels:
            gateway = bench.wrk(name, conns)
            rows.append(("gateway", CALLS[name], conns, gateway))
            print(report.line(rows[-1]), flush=True)
            if with_direct:
                rows.append(("direct RPC", CALLS[name], conns,
                             bench.direct(name, conns)))
                print(report.line(rows[-1]), flush=True)
    for conns in conns_levels:
        rows.append(("bare HTTP", "GET /health", conns, bench.wrk("health", conns)))
        print(report.line(rows[-1]), flush=True)

    soak = {}
    if total:
        print("%d requests (GET and POST /airport, 32 conns)" % total, flush=True)
        soak["rss_before"], soak["queues_before"] = bench.rss(), bench.reply_queues()
        soak["run"] = bench.soak(total, seconds(os.environ.get("BENCH_SOAK_LIMIT",
                                                                "300s")))
        soak["rss_after"], soak["queues_after"] = bench.rss(), bench.reply_queues()

    shed = {}
    if overload:
        print("overload: %d conns on GET /airport/<id>" % overload, flush=True)
        shed["conns"] = overload
        shed["before"] = bench.wrk("get_airport", 1, duration="2s")
        shed["rss_before"] = bench.rss()
        log_mark = len(bench.gateway.log())
        shed["run"] = bench.wrk("get_airport", overload)
        shed["rss_after"] = bench.rss()
        # Once more: memory that grew for the connections must not grow again.
        shed["again"] = bench.wrk("get_airport", overload)
        shed["rss_again"] = bench.rss()
        shed["answer_times"] = bench.answer_times(log_mark)
        shed["after"] = bench.wrk("get_airport", 1, duration="2s")
    load = os.getloadavg()
    return report.render(
        rows, soak, shed,
        label=os.environ.get("BENCH_LABEL", ""),
        settings={
            "duration": bench.duration,
            "variant": bench.variant or "travel-gateway (defaults)",
            "RabbitMQ": "3-node cluster" if bench.cluster else "one node",
            "request queues": os.environ.get("RPC_QUEUE_TYPE", "classic (default)"),
            "airports instances": os.environ.get("BENCH_AIRPORTS", "1"),
            "trips instances": os.environ.get("BENCH_TRIPS", "1"),
            "service max_workers": os.environ.get("MAX_WORKERS", "10 (default)"),
            "gateway RPC_MAX_IN_FLIGHT": os.environ.get("RPC_MAX_IN_FLIGHT", "default"),
            "load average at end": "%.2f %.2f %.2f" % load,
            "cores": os.cpu_count(),
        },
    )


def stop_cleanly_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that the stacks started are stopped
    and their vhost and Redis database released."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


def main() -> None:
    stop_cleanly_on_sigterm()
    cluster = start_cluster() if os.environ.get("BENCH_CLUSTER") == "1" else None
    try:
        with tempfile.TemporaryDirectory(prefix="travel-bench-") as workdir:
            bench = Bench(Path(workdir), cluster)
            try:
                table = run(bench)
            except BaseException:
                for process in (bench.gateway, *bench.services):
                    sys.stderr.write("--- %s log (tail)\n%s\n" % (
                        process.name, process.log()[-3000:]))
                raise
            finally:
                bench.stop()
    finally:
        if cluster is not None:
            cluster.remove()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    label = os.environ.get("BENCH_LABEL", "")
    name = stamp + ("-" + label if label else "") + ".md"
    (RESULTS / name).write_text(table)
    if not label:
        (RESULTS / "latest.md").write_text(table)
    print("written to bench/results/%s" % name)
