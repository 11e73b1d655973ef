"""What ``REDIS_MIN_REPLICAS=1`` costs: ``python -m bench.replicas``.

A Redis primary with one replica, watched by three Sentinels (the tests'
``SentinelGroup``), and two stacks on it side by side, each on a database of
its own and ``REDIS_URI=redis+sentinel://...``: one with ``REDIS_MIN_REPLICAS=0``,
one with ``1``.  Both are warmed up, then measured with wrk in turn,
``BENCH_ROUNDS`` (3) rounds, so that both see the same machine load.
``BENCH_DURATION`` (``5s``) per measurement; ``BENCH_CONNS`` (``1,32``);
``BENCH_CALLS`` (``post_airport,post_trip,get_airport``).  Medians, also
written to ``bench/results/replicas-<timestamp>.md``.
"""

import datetime
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.run import CALLS, RESULTS, ROOT, Bench, env_list, stop_cleanly_on_sigterm

sys.path.insert(0, str(ROOT / "tests"))  # the tests' own imports: ``support``
from sentinel_support import SentinelGroup  # noqa: E402

VARIANTS = {"REDIS_MIN_REPLICAS=0": "0", "REDIS_MIN_REPLICAS=1": "1"}


def start_stack(workdir: Path, redis_uri: str, min_replicas: str) -> Bench:
    saved = dict(os.environ)
    os.environ["REDIS_MIN_REPLICAS"] = min_replicas
    try:
        bench = Bench(workdir, redis_uri=redis_uri)
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


def measure(calls, conns_levels, rounds: int) -> dict:
    runs = {}  # (variant, call, conns) -> [wrk results]
    group = SentinelGroup(replicas=1)
    stacks = {}
    try:
        with tempfile.TemporaryDirectory(prefix="travel-bench-") as workdir:
            for db, (name, value) in enumerate(VARIANTS.items(), start=1):
                logs = Path(workdir) / ("min-replicas-" + value)
                logs.mkdir()
                stacks[name] = start_stack(logs, group.uri(db), value)
            for _ in range(rounds):
                for call in calls:
                    for conns in conns_levels:
                        for name, bench in stacks.items():
                            result = bench.wrk(call, conns)
                            runs.setdefault((name, call, conns), []).append(result)
                            print("%s %s %d conns: %.0f req/s, p50 %.2f ms, "
                                  "non-2xx %d" % (name, call, conns, result["rps"],
                                                  result["p50"] / 1000,
                                                  result["non_2xx"]), flush=True)
    finally:
        for bench in stacks.values():
            bench.stop()
        group.remove()
    return runs


def render(runs: dict, calls, conns_levels, rounds: int) -> str:
    lines = ["# REDIS_MIN_REPLICAS=0 against 1 (median of %d rounds, %s each)"
             % (rounds, os.environ.get("BENCH_DURATION", "5s")), "",
             "A primary and one replica on this machine, three Sentinels; two "
             "stacks side by side, measured in turn.", "",
             "| call | conns | min replicas | req/s | p50 ms | p90 ms | p99 ms | "
             "non-2xx | p50 cost |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for call in calls:
        for conns in conns_levels:
            base = None
            for name in VARIANTS:
                results = runs[name, call, conns]
                med = {key: statistics.median(r[key] for r in results)
                       for key in ("rps", "p50", "p90", "p99")}
                bad = sum(r["non_2xx"] + r["socket_errors"] for r in results)
                base = base or med
                cost = "%+.2f ms" % ((med["p50"] - base["p50"]) / 1000)
                lines.append("| %s | %d | %s | %.0f | %.2f | %.2f | %.2f | %d | %s |"
                             % (CALLS[call], conns, VARIANTS[name], med["rps"],
                                med["p50"] / 1000, med["p90"] / 1000,
                                med["p99"] / 1000, bad,
                                "-" if med is base else cost))
    lines += ["", "load average at end: %.2f %.2f %.2f" % os.getloadavg(), ""]
    return "\n".join(lines)


def main() -> None:
    stop_cleanly_on_sigterm()
    calls = env_list("BENCH_CALLS", "post_airport,post_trip,get_airport")
    conns_levels = [int(c) for c in env_list("BENCH_CONNS", "1,32")]
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    table = render(measure(calls, conns_levels, rounds), calls, conns_levels, rounds)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = "replicas-%s.md" % stamp
    (RESULTS / name).write_text(table)
    print("written to bench/results/%s" % name)


if __name__ == "__main__":
    main()
