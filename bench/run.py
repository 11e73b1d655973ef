"""``make bench``: the whole system under wrk, next to the classic nameko design.

The bench runs its own RabbitMQ node and Redis server (free ports, its own
directories), so that their CPU is the bench's alone; on them one airports
and one trips instance, the gateway, and the baseline (``bench.baseline``: a
nameko service with ``@http`` entrypoints calling the services through
``RpcProxy``; by default, on a vhost of its own, copies of the services on
nameko's stock plumbing, ``bench.baseline_services``).  Around each wrk run
it reads from /proc the CPU time of every process serving the front driven:
the front, each service instance, the node's Erlang VM and redis-server.
Rounds alternate which front goes first, so that drift hits both; the
tables give medians.  Each round then also drives the gateway with a second
instance of each service started, and stops it again.

Environment (all optional):
``BENCH_QUICK=1``: a quick run; the defaults marked * become ``2s``,
``1,32``, ``0`` and ``20000``;
``BENCH_DURATION`` (``5s``*) per measurement;
``BENCH_ROUNDS`` (``3``): rounds of gateway and baseline;
``BENCH_CONNS`` (``1,8,32,128``*): connections in the first round;
``BENCH_ROUND_CONNS`` (``1,32``): those of the later rounds;
``BENCH_CALLS`` (all: ``get_airport,post_airport,post_trip,list_airports``);
``BENCH_BASELINE`` (``1``): also measure the baseline;
``BENCH_BASELINE_SERVICES`` (``stock``): the services the baseline calls:
``stock``, copies on nameko's stock plumbing, or ``shared``, the gateway's;
``BENCH_SCALE`` (``1``): also measure 2 instances of each service;
``BENCH_DIRECT`` (``1``*): also measure the direct-RPC ceiling (first round);
``BENCH_REQUESTS`` (``100000``*) for the memory / reply-queue run, which
stops anyway after ``BENCH_SOAK_LIMIT`` (``180s``);
``BENCH_OVERLOAD`` (``512``) connections for the overload run (0: none);
``BENCH_AIRPORTS`` / ``BENCH_TRIPS`` (``1``): service instances;
``BENCH_CLUSTER=1``: on a RabbitMQ cluster of three nodes of the bench's
own (``support/rabbit_cluster.py``; about 20 s to start) instead of the local
broker; ``RPC_QUEUE_TYPE`` (``classic``/``quorum``) reaches the services as
usual, so that the two queue types compare on one node and on three;
``BENCH_LABEL``: a name for the results file and heading;
``BENCH_SOURCE``: the gateway and the services from another version of the
project's code (``bench.experiments``' levers): a git revision, each
``+<commit>`` after it applied on top (``git archive``, then ``git apply``
of that commit's changes), so that a change is measured alone against the
code it was written on.
Any ``BENCH_LOOP``/``BENCH_HTTP``/``BENCH_WORKERS``/``BENCH_JSON``/
``BENCH_DELIVERY`` runs the variant in ``bench.gateway``;
``RPC_MAX_IN_FLIGHT``, ``RPC_QUEUE_LIMIT`` and ``MAX_WORKERS`` reach the gateway
and the services as usual, ``RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS`` the node.
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

import redis
import requests

from bench import report
from bench.procs import cpu_snapshot, rss_kib

from support import (
    BIN,
    NAMEKO_CONFIG,
    Process,
    RabbitNode,
    RedisServer,
    Vhost,
    count_consumers,
    free_port,
    service,
    wait_until,
)

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
MODULES = {"airports": "airports_svc.service", "trips": "trips_svc.service"}
STOCK = {"airports": "bench.baseline_services:StockAirportsService",
         "trips": "bench.baseline_services:StockTripsService"}
SERVICE_NAMES = {"airports": "airports_service", "trips": "trips_service"}
QUICK = {"BENCH_DURATION": "2s", "BENCH_CONNS": "1,32", "BENCH_DIRECT": "0",
         "BENCH_REQUESTS": "20000"}


def setting(name: str, default: str) -> str:
    """An environment knob; ``BENCH_QUICK=1`` changes some defaults."""
    if os.environ.get("BENCH_QUICK") == "1":
        default = QUICK.get(name, default)
    return os.environ.get(name, default)


def env_list(name: str, default: str) -> list:
    return [item.strip() for item in setting(name, default).split(",")
            if item.strip()]


def seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    if duration[-1] in units:
        return float(duration[:-1]) * units[duration[-1]]
    return float(duration)


def stock_config(log_dir: Path, name: str, extra: str = "") -> str:
    """The services' nameko config for the baseline's processes, with nameko's
    own container (not the product's ``SERVICE_CONTAINER_CLS``) and ``extra``
    lines: its path."""
    config = Path(log_dir) / name
    config.write_text(re.sub(r"^SERVICE_CONTAINER_CLS:.*\n", "",
                             Path(NAMEKO_CONFIG).read_text(), flags=re.M) + extra)
    return str(config)


def start_stock_services(env: dict, log_dir: Path) -> list:
    """The services on nameko's stock plumbing (``bench.baseline_services``),
    for the baseline to call: ``(role, Process)`` of each, started."""
    config = stock_config(log_dir, "stock-services.yml")
    started = []
    for role, target in STOCK.items():
        process = service(target, "stock-" + role, env, log_dir)
        process.argv = [config if arg == NAMEKO_CONFIG else arg for arg in process.argv]
        started.append((role, process.start()))
    return started


def start_baseline(env: dict, log_dir: Path) -> tuple:
    """``bench.baseline`` under ``nameko run``, with the services' config (on
    nameko's container) and a free port: its ``Process`` and URL."""
    port = free_port()
    config = stock_config(log_dir, "baseline.yml",
                          "\nWEB_SERVER_ADDRESS: 127.0.0.1:%d\n" % port)
    argv = [str(BIN / "nameko"), "run", "--config", config, "bench.baseline"]
    process = Process("baseline", argv, env, log_dir).start()
    return process, "http://127.0.0.1:%d" % port


def source_tree(spec: str, into: Path) -> Path:
    """The project's files at ``spec`` (``BENCH_SOURCE``), under ``into``."""
    revision, *commits = spec.split("+")
    tree = into / "source"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    for commit in commits:
        patch = subprocess.run(["git", "diff", commit + "^", commit], cwd=ROOT,
                               capture_output=True, check=True).stdout
        # (its tests and bench left out: they may build on another lever's)
        subprocess.run(["git", "apply", "--exclude=tests/*", "--exclude=bench/*"],
                       input=patch,
                       cwd=tree, check=True)
    return tree


def start_cluster():
    """A three-node RabbitMQ cluster of the bench's own."""
    from support.rabbit_cluster import RabbitCluster

    print("starting a RabbitMQ cluster of three nodes", flush=True)
    return RabbitCluster().start()


class Servers:
    """The bench's own RabbitMQ node (or, with ``BENCH_CLUSTER=1``, cluster of
    three) and Redis server (appending to its file every second, as in the
    compose file): what they spend is the bench's."""

    def __init__(self):
        self.cluster = self.node = None
        if setting("BENCH_CLUSTER", "0") == "1":
            self.cluster = start_cluster()
        else:
            self.node = RabbitNode()
        try:
            self.redis = RedisServer(appendfsync="everysec")
        except BaseException:
            self._stop_broker()
            raise

    def vhost(self, prefix: str):
        """A vhost of its own on the broker (``.uri``, ``.queues()``, ``.delete()``)."""
        if self.cluster:
            return self.cluster.vhost(prefix)
        return Vhost(prefix, node=self.node)

    def members(self) -> dict:
        """name -> (role, pid) of the broker's nodes and of Redis."""
        if self.cluster:
            brokers = {"broker-%d" % n: node.process.pid
                       for n, node in enumerate(self.cluster.nodes, start=1)}
        else:
            brokers = {"broker": self.node.process.pid}
        members = {name: ("broker", pid) for name, pid in brokers.items()}
        members["redis"] = ("redis", self.redis.process.pid)
        return members

    def stop(self):
        self.redis.remove()
        self._stop_broker()

    def _stop_broker(self):
        if self.cluster:
            self.cluster.remove()
        else:
            self.node.stop()


class Bench:
    """The system on ``servers`` (its own when not given): the services, the
    gateway and, with ``baseline``, the baseline.  With ``sampled``, each
    service runs with the on-CPU sampler of ``bench.oncpu``.  ``redis_uri``
    puts the services on another Redis than the servers' own."""

    def __init__(self, workdir: Path, servers: Servers | None = None,
                 baseline: bool = False, sampled: bool = False,
                 redis_uri: str | None = None):
        self.workdir = workdir
        self.redis_uri = redis_uri
        self.duration = setting("BENCH_DURATION", "5s")
        self.with_baseline = baseline
        self.sampled = sampled
        self.own_servers = servers is None
        self.servers = servers or Servers()
        self.services, self.started = [], 0  # (role, Process)
        self.gateway = self.baseline = self.baseline_url = None
        self.stock, self.baseline_vhost = [], None  # the baseline's own services
        self.extra = []
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self.vhost = self.servers.vhost("travel-bench")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, AMQP_URI=self.vhost.uri,
                   REDIS_URI=self.redis_uri or self.servers.redis.uri,
                   PYTHONUNBUFFERED="1",
                   HOST="127.0.0.1", PORT=str(self.port))
        env.pop("API_KEYS", None)
        env.setdefault("PYTHONWARNINGS", "ignore")
        self.source = None
        if os.environ.get("BENCH_SOURCE"):
            self.source = source_tree(os.environ["BENCH_SOURCE"], self.workdir)
            env["PYTHONPATH"] = str(self.source)
        self.env = env
        for role, var in (("airports", "BENCH_AIRPORTS"), ("trips", "BENCH_TRIPS")):
            for _ in range(int(os.environ.get(var, "1"))):
                self.add_service(role)
        self.variant = {var: os.environ[var] for var in VARIANT_VARS
                        if os.environ.get(var)}
        argv = ([sys.executable, "-m", "bench.gateway"] if self.variant
                else [str(BIN / "travel-gateway")])
        self.gateway = self.sourced(Process("gateway", argv, env, self.workdir))
        self.gateway.start()
        if self.with_baseline:
            self._start_baseline()

    def _start_baseline(self):
        env = self.env
        if setting("BENCH_BASELINE_SERVICES", "stock") == "stock":
            self.baseline_vhost = self.servers.vhost("travel-baseline")
            env = dict(env, AMQP_URI=self.baseline_vhost.uri)
            self.stock = start_stock_services(env, self.workdir)
        self.baseline, self.baseline_url = start_baseline(env, self.workdir)

    def add_service(self, role: str) -> Process:
        self.started += 1
        name = "%s-%d" % (role, self.started)
        process = self.sourced(service(MODULES[role], name, self.env, self.workdir))
        if self.sampled:
            process.argv = [sys.executable, "-m", "bench.oncpu",
                            str(self.stacks(process)), *process.argv[1:]]
        self.services.append((role, process.start()))
        return process

    def sourced(self, process: Process) -> Process:
        """``process``, run from ``BENCH_SOURCE``'s tree when there is one,
        with that tree's nameko config."""
        if self.source:
            process.cwd = self.source
            process.argv = [str(self.source / "compose" / "nameko.yml")
                            if arg == NAMEKO_CONFIG else arg for arg in process.argv]
        return process

    def stacks(self, process: Process) -> Path:
        """Where a sampled service writes its stacks (``bench.oncpu``)."""
        return self.workdir / ("%s.stacks" % process.name)

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

    def processes(self) -> list:
        fronts = (self.gateway, *self.extra, self.baseline)
        return [p for p in fronts if p] + [p for _, p in self.services + self.stock]

    def stop(self):
        processes = self.processes()
        for process in processes:
            process.terminate()
        for process in processes:
            process.stop()
        for vhost in (getattr(self, "vhost", None), self.baseline_vhost):
            if vhost:
                vhost.delete()
        if self.own_servers:
            self.servers.stop()
        elif not self.redis_uri:
            redis.Redis.from_url(self.servers.redis.uri).flushdb()

    def wait_ready(self, timeout: float = 60):
        def answers(url):
            try:
                return requests.get(url, timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(lambda: answers(self.url + "/ready"), timeout, interval=0.2,
                   what="the stack to be ready; logs in %s" % self.workdir)
        if self.baseline:
            wait_until(lambda: answers(self.baseline_url + "/health"), timeout,
                       interval=0.2, what="the baseline; logs in %s" % self.workdir)
        if self.stock:
            self.wait_instances(self.baseline_vhost, self.stock)

    # -- scale -----------------------------------------------------------
    def wait_instances(self, vhost=None, services=None, timeout: float = 60):
        """Until each service's queue on ``vhost`` (the gateway's) has a
        consumer per instance in ``services`` (the gateway's)."""
        vhost, services = vhost or self.vhost, services or self.services
        for role, service_name in SERVICE_NAMES.items():
            count = sum(1 for r, _ in services if r == role)
            wait_until(lambda name=service_name, count=count:
                       count_consumers(vhost, name) == count,
                       timeout, interval=0.2,
                       what="%d instances of %s" % (count, service_name))

    def scale_up(self) -> list:
        """One more instance of each service, consuming; returns them."""
        added = [self.add_service(role) for role in MODULES]
        self.wait_instances()
        return added

    def scale_down(self, added: list):
        for process in added:
            process.stop()
        self.services = [(r, p) for r, p in self.services if p not in added]
        self.wait_instances()

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
    def system(self, front: str) -> dict:
        """The processes serving ``front``'s requests: name -> (role, pid)."""
        process = self.baseline if front == report.BASELINE else self.gateway
        services = self.services
        if front == report.BASELINE and self.stock:
            services = self.stock
        found = {front: (front, process.popen.pid)}
        for role, service_process in services:
            found[service_process.name] = (role, service_process.popen.pid)
        found.update(self.servers.members())
        return found

    def wrk(self, name: str, conns: int, duration=None,
            front: str = report.FRONT) -> dict:
        """A wrk run on ``front``; ``cpu``: CPU ms per request by role, and
        ``cpu_ms``: the front's."""
        url = self.baseline_url if front == report.BASELINE else self.url
        argv = ["wrk", "-t1", "-c%d" % conns, "-d%s" % (duration or self.duration),
                "--timeout", "10s", "-s", WRK_SCRIPT, url,
                "--", self.files["http", name]]
        system = self.system(front)
        pids = {member: pid for member, (_, pid) in system.items()}
        before = cpu_snapshot(pids)
        done = subprocess.run(argv, capture_output=True, text=True)
        after = cpu_snapshot(pids)
        if done.returncode != 0:
            raise RuntimeError("wrk failed: %s %s" % (done.stdout, done.stderr))
        result = report.parse(done.stdout)
        used = {}
        for member, (role, _) in system.items():
            used[role] = used.get(role, 0) + after[member] - before[member]
        requests_done = max(result["requests"], 1)
        result["cpu"] = {role: s * 1000 / requests_done for role, s in used.items()}
        result["cpu_ms"] = result["cpu"][front]
        return result

    def direct(self, name: str, conns: int) -> dict:
        argv = [sys.executable, "-m", "bench.direct", self.vhost.uri,
                self.files["rpc", name], str(conns), str(seconds(self.duration))]
        done = subprocess.run(argv, capture_output=True, text=True, check=True,
                              cwd=ROOT, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        result = report.parse(done.stdout)
        result["cpu"] = {report.DIRECT: result["cpu_ms"]}
        return result

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
        """Reply queues with a consumer on the gateway's vhost: the gateway's
        proxies', the trips service's (and the baseline's, when it calls the
        same services).  (Those of the finished direct-RPC runs have none;
        nameko lets them expire after 5 minutes.)"""
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


def measure_rounds(bench: Bench, calls: list, fronts: list) -> tuple:
    """The rounds: (front, call, conns) -> results, and call -> results of the
    gateway with two instances of each service."""
    rounds = int(setting("BENCH_ROUNDS", "3"))
    first = [int(c) for c in env_list("BENCH_CONNS", "1,8,32,128")]
    later = [c for c in first if str(c) in env_list("BENCH_ROUND_CONNS", "1,32")]
    with_direct = setting("BENCH_DIRECT", "1") != "0"
    with_scale = setting("BENCH_SCALE", "1") != "0"
    results, scaled = {}, {}

    def record(key, result):
        results.setdefault(key, []).append(result)
        print(report.line(*key, result), flush=True)

    for n in range(rounds):
        print("round %d of %d" % (n + 1, rounds), flush=True)
        order = fronts if n % 2 == 0 else fronts[::-1]
        for name in calls:
            for conns in first if n == 0 else later:
                for front in order:
                    record((front, CALLS[name], conns),
                           bench.wrk(name, conns, front=front))
                if with_direct and n == 0:
                    record((report.DIRECT, CALLS[name], conns),
                           bench.direct(name, conns))
        if with_scale:
            added = bench.scale_up()
            bench.wrk("mix", report.TARGET_CONNS, duration="2s")
            for name in calls:
                result = bench.wrk(name, report.TARGET_CONNS)
                scaled.setdefault(CALLS[name], []).append(result)
                print(report.line("2+2", CALLS[name], report.TARGET_CONNS, result),
                      flush=True)
            bench.scale_down(added)
    for conns in first:
        for front in fronts:
            record((front, "GET /health", conns), bench.wrk("health", conns,
                                                            front=front))
    return results, scaled


def run(bench: Bench) -> str:
    calls = env_list("BENCH_CALLS", ",".join(CALLS))
    total = int(setting("BENCH_REQUESTS", "100000"))
    overload = int(setting("BENCH_OVERLOAD", "512"))
    fronts = [report.FRONT] + ([report.BASELINE] if bench.baseline else [])

    bench.wait_ready()
    bench.seed()
    print("warming up", flush=True)
    for front in fronts:
        bench.wrk("mix", 32, duration="3s", front=front)
    results, scaled = measure_rounds(bench, calls, fronts)

    soak = {}
    if total:
        print("%d requests (GET and POST /airport, 32 conns)" % total, flush=True)
        soak["rss_before"], soak["queues_before"] = bench.rss(), bench.reply_queues()
        soak["run"] = bench.soak(total, seconds(setting("BENCH_SOAK_LIMIT", "180s")))
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
        results, scaled, soak, shed,
        label=os.environ.get("BENCH_LABEL", ""),
        settings={
            "duration": bench.duration,
            "gateway": bench.variant or "travel-gateway (defaults)",
            "baseline": ("bench.baseline under nameko run, calling %s" % (
                "copies of the services on nameko's stock plumbing "
                "(bench.baseline_services)" if bench.stock
                else "the gateway's services")) if bench.baseline
            else "not measured",
            "RabbitMQ": "3-node cluster" if bench.servers.cluster else "one node",
            "request queues": os.environ.get("RPC_QUEUE_TYPE", "classic (default)"),
            "airports instances": os.environ.get("BENCH_AIRPORTS", "1"),
            "trips instances": os.environ.get("BENCH_TRIPS", "1"),
            "service max_workers": os.environ.get("MAX_WORKERS", "10 (default)"),
            "gateway RPC_MAX_IN_FLIGHT": os.environ.get("RPC_MAX_IN_FLIGHT", "default"),
            "broker": "a RabbitMQ node of the bench's own; extra Erlang args: %s"
            % (os.environ.get("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS") or "none"),
            "redis": "a redis-server of the bench's own, appendfsync everysec",
            "load average at end": "%.2f %.2f %.2f" % load,
            "cores": os.cpu_count(),
        },
    )


def stop_cleanly_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that the stacks started are stopped
    and their servers removed."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))


def main() -> None:
    stop_cleanly_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="travel-bench-") as workdir:
        bench = Bench(Path(workdir),
                      baseline=setting("BENCH_BASELINE", "1") != "0")
        try:
            table = run(bench)
        except BaseException:
            for process in bench.processes():
                sys.stderr.write("--- %s log (tail)\n%s\n" % (
                    process.name, process.log()[-3000:]))
            raise
        finally:
            bench.stop()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    label = os.environ.get("BENCH_LABEL", "")
    name = stamp + ("-" + label if label else "") + ".md"
    (RESULTS / name).write_text(table)
    if not label:
        (RESULTS / "latest.md").write_text(table)
    print("written to bench/results/%s" % name)
