"""Where a service instance's CPU goes: ``python -m bench.profile_services
[CALL...]``.

For each call (``get_airport``, ``post_airport``, ``post_trip``,
``list_airports``; default all), on a stack of its own, the gateway driven by
wrk at 32 connections (``BENCH_PROFILE_CONNS``), for each service the call
reaches (``POST /trip``: trips, and airports for its ``reserve``):

- CPU per call of the instance, from /proc around a wrk run (every request
  makes one call to each service on its path), and of the whole system;
- the stages, sampled: wrk again with each instance's on-CPU sampler on
  (``bench.oncpu``: samples on the process's CPU time; or, with
  ``BENCH_PROFILE_SAMPLER=py-spy``, py-spy from outside, 1000 samples a
  second, which also counts the time the instance waits for a core).  A
  sample goes to the first stage below whose pattern matches a frame of its
  stack (anywhere for the first group, the innermost frame for the rest); a
  stage's share of the samples times the CPU per call gives microseconds per
  call.  A stage counts the JSON and socket writes made inside it;
- on-CPU time by binary, when ``perf`` is installed.

Printed, and written to ``bench/results/profile-services-<timestamp>.md``.
"""

import os
import shutil
import signal
import sys

from bench.profile import (
    CONNS,
    SECONDS,
    end,
    perf_by_binary,
    perf_table,
    py_spy,
    samples,
    save,
    seeded_bench,
    stage_table,
)
from bench.report import system_ms
from bench.run import CALLS, Bench, stop_cleanly_on_sigterm

from support import wait_until

SAMPLER = os.environ.get("BENCH_PROFILE_SAMPLER", "cpu")

# The services each call reaches, the first one first.
REACHES = {
    "get_airport": ("airports",),
    "post_airport": ("airports",),
    "post_trip": ("trips", "airports"),
    "list_airports": ("airports",),
}

ANYWHERE = [
    ("trips → airports call: request publish (nameko RpcProxy with a confirm, "
     "or on the consumer's channel), reply wait",
     r"^(MethodProxy|RpcReply|ServiceProxy|CallingMethodProxy)\."),
    ("trips → airports call: the reply listener taking the reply",
     r"^(Prompt)?ReplyListener\.(handle_message|returned) "),
    ("reply publish: nameko's Responder, Publisher, kombu producer pool and "
     "retry wrapper, confirm wait; or reply() on the request's channel; "
     "py-amqp frames out", r"^(Responder\.|reply \()"),
    ("ack of the request", r"^QueueConsumer\.ack_message "),
    ("dependency hooks: the per-call log line, nameko's debug logging",
     r"^RequestLog\.|\(logging/|travel_common/logs"),
    ("dependency hooks: metrics", r"^RpcMetrics\.|prometheus_client/"),
    ("the method: Redis round trips (redis-py)", r"\(redis/"),
    ("the method: schemas (marshmallow)", r"\(marshmallow/"),
    ("JSON elsewhere: request decode", r"\(json/|kombu/serialization"),
    ("request consume: py-amqp frames in, kombu message, nameko queue "
     "consumer, entrypoint dispatch",
     r"^(ConsumerMixin|QueueConsumer|RpcConsumer|Rpc|TransientRpc)\."),
    ("the method's own code (service, records)",
     r"\((airports_svc|trips_svc)/|travel_common/(records|idempotency|ids)"),
    ("worker: spawn, dependency injection, hooks' loop (nameko containers)",
     r"^(Lean)?ServiceContainer\."),
]
INNERMOST = [
    ("eventlet: hub, polling, timers, greenlet switches", r"\(eventlet/"),
]


def sampled_run(bench: Bench, call: str, roles: tuple) -> dict:
    """A wrk run with the instances' samplers on: stacks by role."""
    processes = {role: next(p for r, p in bench.services if r == role)
                 for role in roles}
    if SAMPLER == "py-spy":
        outs = {role: bench.workdir / ("py-spy-%s-%s.txt" % (call, role))
                for role in roles}
        spies = [py_spy(process.popen.pid, outs[role])
                 for role, process in processes.items()]
        bench.wrk(call, CONNS, duration="%ds" % SECONDS)
        for spy in spies:
            spy.wait()
        return {role: out.read_text() for role, out in outs.items()}
    for process in processes.values():
        bench.stacks(process).unlink(missing_ok=True)
        process.signal(signal.SIGUSR1)
    bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    for process in processes.values():
        process.signal(signal.SIGUSR2)
    for process in processes.values():
        wait_until(bench.stacks(process).exists, 10, what="%s's stacks" % process.name)
    return {role: bench.stacks(process).read_text()
            for role, process in processes.items()}


def profile(bench: Bench, call: str) -> tuple:
    """CPU per call by role, and for each service reached its stages."""
    bench.wrk("mix", CONNS, duration="3s")
    plain = bench.wrk(call, CONNS, duration="%ds" % SECONDS)
    roles = REACHES[call]
    stacks = sampled_run(bench, call, roles)
    stages = {role: samples(stacks[role], thread="thread", anywhere=ANYWHERE,
                            innermost=INNERMOST) for role in roles}
    if shutil.which("perf"):
        for role in roles:
            process = next(p for r, p in bench.services if r == role)
            plain.setdefault("perf", {})[role] = perf_by_binary(
                bench, call, process.popen.pid)
    return plain, stages


def render(results: dict) -> str:
    lines = ["# Service CPU by stage (%d conns, %d s per run, sampler: %s)"
             % (CONNS, SECONDS, SAMPLER), ""]
    for call, (plain, stages) in results.items():
        cpu = plain["cpu"]
        lines += [
            "## %s: %.0f req/s; CPU ms per request: %s; system %.3f"
            % (CALLS[call], plain["rps"],
               ", ".join("%s %.3f" % item for item in cpu.items()),
               system_ms(plain)),
            "",
        ]
        for role, counts in stages.items():
            lines += stage_table(counts, cpu[role], "%s: stage (sampled)" % role,
                                 per="call")
            perf = plain.get("perf", {}).get(role)
            if perf:
                lines += perf_table(perf, "%s: binary (perf, on-CPU samples)" % role)
    return end(lines)


def main() -> None:
    stop_cleanly_on_sigterm()
    calls = sys.argv[1:] or list(CALLS)
    with seeded_bench(sampled=SAMPLER != "py-spy") as bench:
        results = {call: profile(bench, call) for call in calls}
    save(render(results), "profile-services")


if __name__ == "__main__":
    main()
