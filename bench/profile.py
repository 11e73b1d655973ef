"""Where the gateway's CPU goes: ``python -m bench.profile [CALL...]``.

For each call (``get_airport``, ``post_airport``, ``post_trip``,
``list_airports``; default all) on a stack of its own: wrk at 32
connections, once plain to measure the gateway's CPU per request from
``/proc``, and once under py-spy (sampling 1000 times a second, without
stopping the process).  Each sample of the event loop's thread is put in one
stage (the first rule below that matches its stack), and the stage's share
of the samples times the CPU per request gives microseconds per request.
Printed, and written to ``bench/results/profile-<timestamp>.md``.
"""

import collections
import datetime
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import CALLS, RESULTS, Bench

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
CONNS = int(os.environ.get("BENCH_PROFILE_CONNS", "32"))
SECONDS = int(os.environ.get("BENCH_PROFILE_SECONDS", "15"))

# (stage, pattern): a sample belongs to the first stage whose pattern matches
# a frame of its stack (anywhere for the first group, the innermost frame
# for the rest).
ANYWHERE = [
    ("RPC publish: nameko MethodProxy, kombu Producer, py-amqp frames out",
     r"GatewayRpcProxy\.call_async"),
    ("RPC replies: py-amqp frames in, kombu message, nameko reply listener",
     r"RpcPool\._on_readable"),
    ("access log line", r"logging/__init__|travel_common/logs"),
    ("metrics", r"gateway_falcon/metrics|prometheus_client"),
    ("validation: marshmallow schemas", r"marshmallow/"),
    ("JSON bodies", r"json/"),
    ("request ids (uuid4)", r"uuid\.py"),
]
INNERMOST = [
    ("RPC client bookkeeping: places, deadline timer, futures",
     r"gateway_falcon/rpc\.py"),
    ("Falcon: routing, request and response objects, middleware", r"falcon/"),
    ("uvicorn + httptools: HTTP parsing, ASGI messages, socket writes",
     r"uvicorn/|httptools"),
    ("gateway code: resources, middleware, errors", r"gateway_falcon/|schemas/"),
    ("asyncio + uvloop: tasks, timers, the loop", r"asyncio/|uvloop|<module>"),
]


def stage(frames: list) -> str:
    for name, pattern in ANYWHERE:
        if any(re.search(pattern, frame) for frame in frames):
            return name
    for name, pattern in INNERMOST:
        if re.search(pattern, frames[-1]):
            return name
    return "other"


def samples(raw: str) -> collections.Counter:
    """Samples by stage, of the event loop's thread only."""
    counts = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if len(frames) > 1 and "MainThread" in frames[0]:
            counts[stage(frames[1:])] += int(count)
    return counts


def profile(bench: Bench, call: str) -> tuple:
    bench.wrk("mix", CONNS, duration="3s")
    plain = bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    out = bench.workdir / ("profile-%s.txt" % call)
    spy = subprocess.Popen(
        [PY_SPY, "record", "--pid", str(bench.gateway.popen.pid), "--rate", "1000",
         "--duration", str(SECONDS), "--nonblocking", "--threads",
         "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    spy.wait()
    return plain, samples(out.read_text())


def render(results: dict) -> str:
    lines = ["# Gateway CPU by stage (%d conns, %d s per call)" % (CONNS, SECONDS), ""]
    for call, (plain, counts) in results.items():
        total = sum(counts.values()) or 1
        lines += [
            "## %s: %.0f req/s, %.3f ms CPU per request"
            % (CALLS[call], plain["rps"], plain["cpu_ms"]),
            "",
            "| stage | share | µs per request |",
            "|---|---:|---:|",
        ]
        for name, count in counts.most_common():
            share = count / total
            lines.append("| %s | %.1f%% | %.0f |"
                         % (name, share * 100, share * plain["cpu_ms"] * 1000))
        lines.append("")
    lines.append("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    return "\n".join(lines) + "\n"


def main() -> None:
    calls = sys.argv[1:] or list(CALLS)
    with tempfile.TemporaryDirectory(prefix="travel-profile-") as workdir:
        bench = Bench(Path(workdir))
        try:
            bench.wait_ready()
            bench.seed()
            results = {call: profile(bench, call) for call in calls}
        finally:
            bench.stop()
    text = render(results)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / ("profile-%s.md" % stamp)).write_text(text)


if __name__ == "__main__":
    main()
