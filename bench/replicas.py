"""What ``REDIS_MIN_REPLICAS=1`` costs: ``python -m bench.replicas``.

A Redis primary with one replica, watched by three Sentinels (the tests'
``SentinelGroup``), and two stacks on it side by side, each on a database of
its own and ``REDIS_URI=redis+sentinel://...``: one with ``REDIS_MIN_REPLICAS=0``,
one with ``1``.  Three measurements, each comparing the two in the same
moments, so that other load on the machine falls on both alike:

- the store alone: ``Records.create`` (an idempotency claim and the record:
  two writes), one at a time, alternating between 0 and 1;
- the whole stack, one request at a time, alternating between the two
  gateways: ``POST /airport`` (two writes) and ``POST /trip`` (three);
- throughput: wrk at ``BENCH_CONNS`` (``32``) on each gateway in turn,
  ``BENCH_ROUNDS`` (3) rounds of ``BENCH_DURATION`` (``5s``), medians.

``BENCH_SAMPLES`` (``1000``): requests of each kind and variant in the first
two.  The table is printed and written to ``bench/results/replicas-<timestamp>.md``.
"""

import datetime
import os
import statistics
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import requests

from bench.report import percentile
from bench.run import RESULTS, Bench, Servers, stop_cleanly_on_sigterm
from travel_common.records import Records
from travel_common.redis_client import connect

from support.sentinel import SentinelGroup

VARIANTS = ("0", "1")  # REDIS_MIN_REPLICAS


def start_stack(workdir: Path, servers: Servers, redis_uri: str,
                min_replicas: str) -> Bench:
    saved = dict(os.environ)
    os.environ["REDIS_MIN_REPLICAS"] = min_replicas
    try:
        bench = Bench(workdir, servers=servers, redis_uri=redis_uri)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        bench.wait_ready()
        bench.seed()
        bench.wrk("mix", 32, duration="3s")
    except BaseException:
        bench.stop()
        raise
    return bench


def alternate(calls: dict, samples: int) -> dict:
    """Each call ``samples`` times, in turn (the order flipped every round);
    the sorted durations of each, in milliseconds."""
    times = {name: [] for name in calls}
    names = list(calls)
    for round_ in range(samples):
        for name in names if round_ % 2 else reversed(names):
            started = time.perf_counter()
            calls[name]()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: sorted(values) for name, values in times.items()}


def create(records: Records) -> None:
    records.create({"airport": "x"}, idempotency_key="auto:" + uuid.uuid4().hex)


def post(session: requests.Session, url: str, body: dict) -> None:
    session.post(url, json=body, timeout=10).raise_for_status()


def store_calls(group: SentinelGroup) -> dict:
    return {
        variant: partial(create, Records(
            connect(group.uri(3), socket_timeout=5, decode_responses=True),
            "bench-%s" % variant, min_replicas=int(variant)))
        for variant in VARIANTS
    }


def http_calls(stacks: dict, what: str) -> dict:
    calls = {}
    for variant, bench in stacks.items():
        body = ({"airport": "x"} if what == "airport"
                else {"airport_from": bench.ids[0], "airport_to": bench.ids[1]})
        calls[variant] = partial(post, requests.Session(), bench.url + "/" + what, body)
    return calls


def measure() -> str:
    samples = int(os.environ.get("BENCH_SAMPLES", "1000"))
    conns = int(os.environ.get("BENCH_CONNS", "32"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    rows, throughput = [], {}
    group = SentinelGroup(replicas=1)
    servers = Servers()  # the broker; Redis is the group's
    stacks = {}
    try:
        with tempfile.TemporaryDirectory(prefix="travel-bench-") as workdir:
            for db, variant in enumerate(VARIANTS, start=1):
                logs = Path(workdir) / ("min-replicas-" + variant)
                logs.mkdir()
                stacks[variant] = start_stack(logs, servers, group.uri(db), variant)
            for label, calls in (
                ("store: claim + create (2 writes)", store_calls(group)),
                ("POST /airport, one at a time (2 writes)",
                 http_calls(stacks, "airport")),
                ("POST /trip, one at a time (3 writes)", http_calls(stacks, "trip")),
            ):
                rows.append((label, alternate(calls, samples)))
                print(label, {v: "p50 %.2f ms" % percentile(t, 0.5)
                              for v, t in rows[-1][1].items()}, flush=True)
            for call in ("post_airport", "post_trip"):
                for _ in range(rounds):
                    for variant, bench in stacks.items():
                        result = bench.wrk(call, conns)
                        throughput.setdefault((call, variant), []).append(result)
    finally:
        for bench in stacks.values():
            bench.stop()
        servers.stop()
        group.remove()
    return render(rows, throughput, samples, conns, rounds)


def render(rows, throughput, samples: int, conns: int, rounds: int) -> str:
    out = ["# REDIS_MIN_REPLICAS=0 against 1", "",
           "A primary and one replica on this machine, three Sentinels; %d samples "
           "of each, the two alternating." % samples, "",
           "| what | min replicas | p50 ms | p90 ms | p99 ms | p50 cost |",
           "|---|---:|---:|---:|---:|---:|"]
    for label, times in rows:
        base = percentile(times["0"], 0.5)
        for variant, values in times.items():
            p50 = percentile(values, 0.5)
            out.append("| %s | %s | %.2f | %.2f | %.2f | %s |" % (
                label, variant, p50, percentile(values, 0.9), percentile(values, 0.99),
                "-" if variant == "0" else "%+.2f ms" % (p50 - base)))
    out += ["", "Throughput, wrk at %d connections, each gateway in turn, median of "
            "%d rounds:" % (conns, rounds), "",
            "| call | min replicas | req/s | p50 ms | p99 ms | non-2xx |",
            "|---|---:|---:|---:|---:|---:|"]
    for (call, variant), results in throughput.items():
        med = {key: statistics.median(r[key] for r in results)
               for key in ("rps", "p50", "p99")}
        bad = sum(r["non_2xx"] + r["socket_errors"] for r in results)
        out.append("| %s | %s | %.0f | %.1f | %.1f | %d |" % (
            call, variant, med["rps"], med["p50"] / 1000, med["p99"] / 1000, bad))
    out += ["", "load average at end: %.2f %.2f %.2f" % os.getloadavg(), ""]
    return "\n".join(out)


def main() -> None:
    stop_cleanly_on_sigterm()
    table = measure()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = "replicas-%s.md" % stamp
    (RESULTS / name).write_text(table)
    print("written to bench/results/%s" % name)


if __name__ == "__main__":
    main()
