"""Where the gateway's CPU goes: ``python -m bench.profile [CALL...]``.

For each call (``get_airport``, ``post_airport``, ``post_trip``,
``list_airports``; default all), on a stack of its own, at 32 connections
(``BENCH_PROFILE_CONNS``):

- the parts, each measured: the whole request (wrk; the gateway's CPU from
  ``/proc``), the RPC client alone (the gateway's ``RpcClient`` calling the same
  RPCs in this process, as many at once, no HTTP; CPU from
  ``time.process_time``) and bare HTTP (``GET /health``);
- the stages, sampled: wrk again with py-spy on the gateway (1000 samples a
  second, without stopping it).  Each sample of the event loop's thread goes
  to the first stage below that matches its stack; a stage's share of the
  samples times the CPU per request gives microseconds per request.  Samples
  whose innermost Python frame is the loop itself (uvloop's C code, and
  waits py-spy cannot tell from work) are shown apart;
- on-CPU time by binary, when ``perf`` is installed: wrk once more with
  ``perf record`` on the gateway; the kernel's share is the cost of the
  system calls (sockets on loopback, epoll) and of scheduling.

Printed, and written to ``bench/results/profile-<timestamp>.md``.
"""

import asyncio
import collections
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import uvloop

from bench.run import CALLS, RESULTS, Bench, stop_cleanly_on_sigterm
from gateway_falcon.rpc import RpcClient
from travel_common.call_context import REQUEST_ID

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
     r"RpcClient\._on_readable"),
    ("access log line", r"logging/__init__|travel_common/logs"),
    ("metrics", r"gateway_falcon/(metrics|instrumented_rpc)|prometheus_client"),
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
    ("the loop itself: uvloop's C code, and waits py-spy counts as busy",
     r"^Runner\.run "),
    ("asyncio: tasks, futures, timers", r"asyncio/|uvloop"),
]


NO_FRAME = "no Python frame: C code (the loop's, greenlet switches)"


def stage(frames: list, anywhere=ANYWHERE, innermost=INNERMOST) -> str:
    if not frames:
        return NO_FRAME
    for name, pattern in anywhere:
        if any(re.search(pattern, frame) for frame in frames):
            return name
    for name, pattern in innermost:
        if re.search(pattern, frames[-1]):
            return name
    return "other"


def samples(raw: str, thread: str = "MainThread", anywhere=ANYWHERE,
            innermost=INNERMOST) -> collections.Counter:
    """Samples by stage (py-spy's raw format, one stack a line, root first),
    of the threads whose name has ``thread`` in it."""
    counts = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if thread in frames[0]:
            counts[stage(frames[1:], anywhere, innermost)] += int(count)
    return counts


def py_spy(pid: int, out: Path) -> subprocess.Popen:
    """py-spy recording ``pid`` for SECONDS, 1000 samples a second, without
    stopping it, into ``out`` (raw format)."""
    return subprocess.Popen(
        [PY_SPY, "record", "--pid", str(pid), "--rate", "1000",
         "--duration", str(SECONDS), "--nonblocking", "--threads",
         "--format", "raw", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def rpc_alone(bench: Bench, call: str) -> float:
    """CPU ms per call of ``RpcClient.call`` alone, CONNS calls at once."""
    calls = bench.rpc_calls[call]
    context = {REQUEST_ID: "profile"}

    async def run() -> float:
        client = RpcClient(bench.vhost.uri, 5)
        await client.start()
        done = 0

        async def worker(offset: int, until: float):
            nonlocal done
            index = offset
            while time.monotonic() < until:
                service, method, args, kwargs = calls[index % len(calls)]
                index += 1
                await client.call(service, method, context, *args, **kwargs)
                done += 1

        try:
            warm = time.monotonic() + 2
            await asyncio.gather(*(worker(n, warm) for n in range(CONNS)))
            done, cpu = 0, time.process_time()
            until = time.monotonic() + SECONDS
            await asyncio.gather(*(worker(n * 7, until) for n in range(CONNS)))
            return (time.process_time() - cpu) * 1000 / max(done, 1)
        finally:
            await client.stop()

    return uvloop.run(run())


def profile(bench: Bench, call: str) -> tuple:
    bench.wrk("mix", CONNS, duration="3s")
    plain = bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    plain["rpc_cpu_ms"] = rpc_alone(bench, call)
    out = bench.workdir / ("profile-%s.txt" % call)
    spy = py_spy(bench.gateway.popen.pid, out)
    bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    spy.wait()
    if shutil.which("perf"):
        plain["perf"] = perf_by_binary(bench, call, bench.gateway.popen.pid)
    return plain, samples(out.read_text())


BINARIES = {
    "[kernel.kallsyms]": "kernel: system calls (loopback sockets, epoll), scheduling",
    "libpython3": "the Python interpreter: all Python code",
    "libpython3.11": "the Python interpreter: all Python code",
    "loop": "uvloop (C)",
    "parser": "httptools' parser (C)",
}


def perf_by_binary(bench: Bench, call: str, pid: int) -> dict:
    """Shares of ``pid``'s on-CPU samples by binary (kernel, libpython,
    extensions) while wrk drives ``call``."""
    out = bench.workdir / ("perf-%s-%d.data" % (call, pid))
    record = subprocess.Popen(
        ["perf", "record", "--freq", "999", "--pid", str(pid),
         "--output", str(out), "--", "sleep", str(SECONDS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    record.wait()
    report = subprocess.run(
        ["perf", "report", "--input", str(out), "--sort", "dso", "--stdio"],
        capture_output=True, text=True, check=True,
    ).stdout
    shares = {}
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
        if match:
            name = re.sub(r"\.cpython-\d+.*|\.so.*", "", match.group(2))
            name = BINARIES.get(name, name)
            shares[name] = shares.get(name, 0) + float(match.group(1))
    return shares


def render(results: dict, bare: dict) -> str:
    lines = ["# Gateway CPU by stage (%d conns, %d s per call)" % (CONNS, SECONDS), ""]
    for call, (plain, counts) in results.items():
        rest = plain["cpu_ms"] - plain["rpc_cpu_ms"] - bare["cpu_ms"]
        lines += [
            "## %s: %.0f req/s, %.3f ms CPU per request"
            % (CALLS[call], plain["rps"], plain["cpu_ms"]),
            "",
            "| part (measured) | ms CPU per request |",
            "|---|---:|",
            "| the whole request through the gateway | %.3f |" % plain["cpu_ms"],
            "| the RPC client alone (RpcClient.call, no HTTP) | %.3f |"
            % plain["rpc_cpu_ms"],
            "| bare HTTP: uvicorn + Falcon, GET /health | %.3f |" % bare["cpu_ms"],
            "| the rest (resource, validation, log, metrics; minus wake-ups the "
            "two share) | %.3f |" % rest,
            "",
        ]
        lines += stage_table(counts, plain["cpu_ms"])
        if plain.get("perf"):
            lines += perf_table(plain["perf"])
    return end(lines)


def stage_table(counts: collections.Counter, cpu_ms: float,
                heading: str = "stage (sampled)", per: str = "request") -> list:
    """Markdown lines: each stage's share of the samples, and its µs per
    request of the ``cpu_ms`` measured."""
    total = sum(counts.values()) or 1
    lines = ["| %s | share | µs per %s |" % (heading, per), "|---|---:|---:|"]
    for name, count in counts.most_common():
        share = count / total
        lines.append("| %s | %.1f%% | %.0f |"
                     % (name, share * 100, share * cpu_ms * 1000))
    return lines + [""]


def perf_table(perf: dict, heading: str = "binary (perf, on-CPU samples)") -> list:
    """Markdown lines: each binary with at least 0.5 % of perf's samples."""
    lines = ["| %s | share |" % heading, "|---|---:|"]
    for name, share in sorted(perf.items(), key=lambda kv: -kv[1]):
        if share >= 0.5:
            lines.append("| %s | %.1f%% |" % (name, share))
    return lines + [""]


def end(lines: list) -> str:
    """The report: ``lines`` and the machine's load average now."""
    lines = lines + ["load average at end: %.2f %.2f %.2f" % os.getloadavg()]
    return "\n".join(lines) + "\n"


@contextmanager
def seeded_bench(**options):
    """A ready ``Bench`` (``options`` as for ``Bench``) with its records
    made, in a directory of its own; stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="travel-profile-") as workdir:
        bench = Bench(Path(workdir), **options)
        try:
            bench.wait_ready()
            bench.seed()
            yield bench
        finally:
            bench.stop()


def save(text: str, name: str) -> None:
    """Print the report, and write it to ``bench/results/<name>-<time>.md``."""
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / ("%s-%s.md" % (name, stamp))).write_text(text)


def main() -> None:
    stop_cleanly_on_sigterm()
    calls = sys.argv[1:] or list(CALLS)
    with seeded_bench() as bench:
        results = {call: profile(bench, call) for call in calls}
        bare = bench.wrk("health", CONNS, duration="%ds" % SECONDS)
    save(render(results, bare), "profile")


if __name__ == "__main__":
    main()
