"""Levers side by side: ``python -m bench.experiments GROUP...``.

Gateway levers: one gateway per variant (``bench.gateway``), all on one
stack, warmed up, then measured with wrk in turn, ``BENCH_ROUNDS`` (4)
rounds, so that every variant sees the same machine load.  Service levers:
a stack per variant, all running at once on one RabbitMQ node and Redis
server of the bench's own, measured in turn likewise (``BENCH_ROUNDS``, 3).
Medians, one table per group (CPU per request: the gateway's, each
service's, the broker's and the whole system's), also written to
``bench/results/experiments-<timestamp>-<groups>.md``.

The levers on the services' own code (``lever-<x>``, and ``levers``: all of
them) run the stack from git (``BENCH_SOURCE``): the code each lever was
written on, unchanged, next to that code with the lever's commits applied,
and nothing else.
"""

import datetime
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.report import system_ms
from bench.run import RESULTS, Bench, Servers, stop_cleanly_on_sigterm

# Gateway levers: gateways side by side on one stack, measured in turn.
GATEWAY_GROUPS = {
    "in-flight": {
        "256 in flight, no queue (default)": {},
        "16 in flight + 128 queued": {"RPC_MAX_IN_FLIGHT": "16",
                                      "RPC_QUEUE_LIMIT": "128"},
        "64 in flight + 128 queued": {"RPC_MAX_IN_FLIGHT": "64",
                                      "RPC_QUEUE_LIMIT": "128"},
        "128 in flight + 128 queued": {"RPC_MAX_IN_FLIGHT": "128",
                                       "RPC_QUEUE_LIMIT": "128"},
        "128 in flight, no queue": {"RPC_MAX_IN_FLIGHT": "128"},
    },
    "server": {
        "uvloop + httptools (default)": {},
        "asyncio + h11": {"BENCH_LOOP": "asyncio", "BENCH_HTTP": "h11"},
        "uvloop + h11": {"BENCH_HTTP": "h11"},
        "uvloop + httptools, 2 workers": {"BENCH_WORKERS": "2"},
    },
    "json": {
        "stdlib json (default)": {},
        "orjson": {"BENCH_JSON": "orjson"},
    },
    "publish": {
        "non-persistent (default)": {},
        "persistent": {"BENCH_DELIVERY": "2"},
    },
}
GATEWAY_GROUPS["overload"] = GATEWAY_GROUPS["in-flight"]  # at 512 conns
GROUP_CONNS = {"overload": 512}
# Service levers: a stack each, all running at once, measured in turn.
SERVICE_GROUPS = {
    "services": {
        "1+1 instances, max_workers 10 (default)": {},
        "max_workers 4": {"MAX_WORKERS": "4"},
        "max_workers 32": {"MAX_WORKERS": "32"},
        "2+2 instances": {"BENCH_AIRPORTS": "2", "BENCH_TRIPS": "2"},
    },
    "log": {
        "a line per call (default)": {},
        "no line per call (LOG_LEVEL=WARNING)": {"LOG_LEVEL": "WARNING"},
    },
}
# The levers on the services' code, in rounds: the revision a round's levers
# were written on, each lever's commits (``BENCH_SOURCE``), and the levers
# the round kept, together.  A round's group (``levers``, ``levers-2``) runs
# its base unchanged, each lever alone and the kept ones together.
LEVER_ROUNDS = {
    "levers": ("66c7b48", {
        "a": ("replies on the request's channel, no confirm", ["eacdf39", "c2bee46"]),
        "b": ("trips → airports calls on the consumer's channel, no confirm",
              ["eacdf39", "fdf065a"]),
        "c": ("records: idempotency claim and store in one script", ["00927a1"]),
        "d": ("log lines: the secrets mask scans only lines with a URI", ["8cfa08b"]),
    }, ("a+b+c+d", ["eacdf39", "c2bee46", "fdf065a", "00927a1", "d9d810e",
                    "8cfa08b"])),
    "levers-2": ("780a093", {
        "e": ("the consumer's socket reads take what the socket holds", ["5eab1d4"]),
        "f": ("log records without caller, thread and process", ["aa349f9"]),
        "g": ("the RPC method's signature looked up once", ["f51e0f0"]),
        "h": ("workers without nameko's debug timers", ["d3fa1aa"]),
    }, ("e+f+g+h", ["5eab1d4", "aa349f9", "f51e0f0", "d3fa1aa"])),
}
for round_group, (base, levers, (kept, kept_commits)) in LEVER_ROUNDS.items():
    unchanged = {"unchanged": {"BENCH_SOURCE": base}}
    for lever, (title, commits) in levers.items():
        SERVICE_GROUPS["lever-" + lever] = dict(unchanged, **{
            "%s) %s" % (lever, title): {"BENCH_SOURCE": "+".join([base, *commits])}})
    SERVICE_GROUPS[round_group] = {
        name: env for lever in levers for name, env in
        SERVICE_GROUPS["lever-" + lever].items()}
    SERVICE_GROUPS[round_group]["%s (kept)" % kept] = {
        "BENCH_SOURCE": "+".join([base, *kept_commits])}
TARGET_CALLS = ("get_airport", "post_airport", "post_trip")
# The calls a group measures; a group not named here (the lever rounds, and a
# lever alone unless it changes fewer): the three of the targets.
GROUP_CALLS = {
    "in-flight": ("get_airport", "post_trip"),
    "overload": ("get_airport",),
    "server": ("get_airport", "list_airports"),
    "json": ("list_airports", "get_airport"),
    "publish": ("get_airport", "post_trip"),
    "services": ("get_airport", "post_trip"),
    "log": ("get_airport", "post_trip"),
    # each lever alone: the calls it changes
    "lever-a": ("get_airport", "post_airport"),
    "lever-b": ("post_trip",),
    "lever-c": ("post_airport",),
    "lever-d": ("get_airport",),
}


def gateway_group(variants: dict, calls, conns: int, rounds: int) -> dict:
    runs = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="travel-bench-") as workdir:
        bench = Bench(Path(workdir))
        try:
            bench.wait_ready()
            bench.seed()
            views = {name: bench.add_gateway("gateway-%d" % n, env)
                     for n, (name, env) in enumerate(variants.items())}
            for view in views.values():
                view.wait_ready()
                view.wrk("mix", conns, duration="2s")
            for _ in range(rounds):
                for name, view in views.items():
                    runs[name].append({c: view.wrk(c, conns) for c in calls})
                    print(name, {c: "%.0f req/s, %.2f ms CPU/req" % (
                        runs[name][-1][c]["rps"], runs[name][-1][c]["cpu_ms"])
                        for c in calls}, flush=True)
        finally:
            bench.stop()
    return runs


def service_group(variants: dict, calls, conns: int, rounds: int) -> dict:
    """A stack per variant, all running at once on one RabbitMQ node and
    Redis server, measured in turn (the order reversed every other round),
    so that every variant sees the same machine load."""
    runs = {name: [] for name in variants}
    servers = Servers()
    benches = {}
    try:
        with tempfile.TemporaryDirectory(prefix="travel-bench-") as workdir:
            for n, (name, env) in enumerate(variants.items()):
                benches[name] = variant_stack(servers, env, Path(workdir) / str(n))
            for bench in benches.values():
                bench.wait_ready()
                bench.seed()
                bench.wrk("mix", conns, duration="3s")
            for n in range(rounds):
                order = list(benches.items())
                for name, bench in order if n % 2 == 0 else order[::-1]:
                    runs[name].append({c: bench.wrk(c, conns) for c in calls})
                    print(name, {c: "%.0f req/s, %.2f ms CPU/req (system %.2f)" % (
                        runs[name][-1][c]["rps"], runs[name][-1][c]["cpu_ms"],
                        system_ms(runs[name][-1][c])) for c in calls}, flush=True)
    finally:
        for bench in benches.values():
            bench.stop()
        servers.stop()
    return runs


def variant_stack(servers: Servers, env: dict, workdir: Path) -> Bench:
    """A stack with ``env`` (read as it starts) on ``servers``."""
    workdir.mkdir()
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return Bench(workdir, servers=servers)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    stop_cleanly_on_sigterm()
    groups = sys.argv[1:] or [*GATEWAY_GROUPS, *SERVICE_GROUPS]
    default_conns = int(os.environ.get("BENCH_EXPERIMENT_CONNS", "32"))
    out = []
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for group in groups:
        calls = GROUP_CALLS.get(group, TARGET_CALLS)
        conns = GROUP_CONNS.get(group, default_conns)
        if group in GATEWAY_GROUPS:
            rounds = int(os.environ.get("BENCH_ROUNDS", "4"))
            runs = gateway_group(GATEWAY_GROUPS[group], calls, conns, rounds)
        else:
            rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
            runs = service_group(SERVICE_GROUPS[group], calls, conns, rounds)
        out += ["## %s (%d conns, median of %d)" % (group, conns, rounds), "",
                "| variant | " + " | ".join(
                    "%s req/s · p50/p99 ms · CPU ms/req: gateway/airports/trips/"
                    "broker/system" % c
                    for c in calls) + " |",
                "|---|" + "---:|" * len(calls)]
        for name, results in runs.items():
            cells = []
            for call in calls:
                med = {key: statistics.median(r[call][key] for r in results)
                       for key in ("rps", "p50", "p99", "cpu_ms")}
                med["system"] = statistics.median(system_ms(r[call]) for r in results)
                roles = [statistics.median(r[call]["cpu"].get(role, 0) for r in results)
                         for role in ("airports", "trips", "broker")]
                failed = [r[call]["non_2xx"] + r[call]["socket_errors"]
                          for r in results]
                bad = sum(failed)
                good = statistics.median(
                    (r[call]["requests"] - n) / (r[call]["duration_us"] / 1e6)
                    for r, n in zip(results, failed, strict=True))
                cells.append("%.0f · %.1f/%.1f · %.2f/%s/%.2f%s" % (
                    med["rps"], med["p50"] / 1000, med["p99"] / 1000, med["cpu_ms"],
                    "/".join("%.2f" % ms for ms in roles), med["system"],
                    " · %d non-2xx, 2xx %.0f/s" % (bad, good) if bad else ""))
            out.append("| %s | %s |" % (name, " | ".join(cells)))
        out += ["", "load average: %.2f %.2f %.2f" % os.getloadavg(), ""]
        text = "\n".join(out)
        print(text, flush=True)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / ("experiments-%s-%s.md" % (stamp, "-".join(groups)))).write_text(
            text)


if __name__ == "__main__":
    main()
