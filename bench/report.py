"""Parsing of wrk.lua's and direct.py's output; medians of rounds, ratios to
the baseline, the issue's targets, and the results tables.

A run's result is wrk.lua's dict plus ``cpu``: CPU milliseconds per request
by role (``gateway`` or ``baseline``, the front; ``airports``, ``trips``,
summed over instances; ``broker``, ``redis``).
"""

import json
import statistics

FRONT = "gateway"
BASELINE = "baseline"
DIRECT = "direct RPC"
SERVICES = ("airports", "trips")
BACKEND = (*SERVICES, "broker", "redis")
# The calls the targets name, and the services each one calls (one call each).
TARGET_CALLS = {
    "GET /airport/<id>": ("airports",),
    "POST /airport": ("airports",),
    "POST /trip": ("trips", "airports"),
}
TARGET_CONNS = 32
MIN_SPEEDUP = 2.0  # gateway req/s against the baseline's
MAX_CPU_SHARE = 0.5  # whole-system CPU per request against the baseline's
MAX_TRIP_LATENCY = 2.0  # POST /trip p50 against POST /airport's, at 1 conn


def parse(output: str) -> dict:
    """The ``BENCH {json}`` line of a run, with req/s and non-2xx added."""
    for line in output.splitlines():
        if line.startswith("BENCH "):
            result = json.loads(line[len("BENCH "):])
            break
    else:
        raise ValueError("no BENCH line in output:\n" + output[-2000:])
    status = {int(code): count for code, count in result["status"].items()}
    result["status"] = status
    errors = sum(result[key] for key in ("connect", "read", "write", "timeout"))
    result["socket_errors"] = errors
    result["non_2xx"] = sum(n for code, n in status.items() if not 200 <= code < 300)
    seconds = result["duration_us"] / 1e6 or 1
    result["rps"] = result["requests"] / seconds
    return result


def percentile(ordered: list, fraction: float) -> float:
    """The value at ``fraction`` of a sorted list (0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def ms(us: float) -> str:
    return "%.1f" % (us / 1000) if us >= 10000 else "%.2f" % (us / 1000)


def system_ms(result: dict) -> float | None:
    """Whole-system CPU ms per request: the front and every backend process;
    None when the backend was not measured (direct RPC)."""
    cpu = result.get("cpu", {})
    if not all(role in cpu for role in BACKEND):
        return None
    return sum(cpu.values())


def median(runs: list) -> dict:
    """One result from the rounds of a measurement: the median of each figure
    (req/s, latencies, each process's CPU), failures summed."""
    out = dict(runs[-1], rounds=len(runs))
    for key in ("rps", "p50", "p90", "p99", "max"):
        out[key] = statistics.median(run[key] for run in runs)
    for key in ("requests", "non_2xx", "socket_errors"):
        out[key] = sum(run[key] for run in runs)
    roles = runs[0].get("cpu", {})
    out["cpu"] = {role: statistics.median(run["cpu"][role] for run in runs)
                  for role in roles}
    if system_ms(runs[0]) is not None:
        out["system_ms"] = statistics.median(system_ms(run) for run in runs)
    return out


def medians(results: dict) -> dict:
    """(front, call, conns) -> list of rounds' results, to their medians."""
    return {key: median(runs) for key, runs in results.items()}


def ratios(gateway: dict, baseline: dict) -> tuple:
    """The gateway's req/s over the baseline's, and its whole-system CPU per
    request as a share of the baseline's (None where not measured)."""
    speedup = gateway["rps"] / baseline["rps"] if baseline["rps"] else None
    ours, theirs = gateway.get("system_ms"), baseline.get("system_ms")
    share = ours / theirs if ours is not None and theirs else None
    return speedup, share


def targets(meds: dict) -> list:
    """The issue's targets against the medians: rows of (target, call,
    figure, met), met being None where a figure is missing."""
    rows = []
    for call, services in TARGET_CALLS.items():
        ours = meds.get((FRONT, call, TARGET_CONNS))
        theirs = meds.get((BASELINE, call, TARGET_CONNS))
        if ours is None or theirs is None:
            continue
        speedup, share = ratios(ours, theirs)
        rows.append(("req/s ≥ %g× the baseline's" % MIN_SPEEDUP, call,
                     "%.2f× (%.0f against %.0f)" % (speedup, ours["rps"], theirs["rps"])
                     if speedup else "-",
                     None if speedup is None else speedup >= MIN_SPEEDUP))
        rows.append(("whole-system CPU per request ≤ %.0f%% of the baseline's"
                     % (MAX_CPU_SHARE * 100), call,
                     "%.0f%% (%.3f against %.3f ms)"
                     % (share * 100, ours["system_ms"], theirs["system_ms"])
                     if share else "-",
                     None if share is None else share <= MAX_CPU_SHARE))
        front = ours["cpu"][FRONT]
        for service in services:
            cost = ours["cpu"][service]
            rows.append(("%s's CPU per call ≤ the gateway's per request" % service,
                         call, "%.3f against %.3f ms" % (cost, front),
                         cost <= front))
    trip = meds.get((FRONT, "POST /trip", 1))
    airport = meds.get((FRONT, "POST /airport", 1))
    if trip and airport:
        factor = trip["p50"] / airport["p50"]
        rows.append(("p50 at 1 conn ≤ %g× POST /airport's" % MAX_TRIP_LATENCY,
                     "POST /trip", "%.2f× (%s against %s ms)"
                     % (factor, ms(trip["p50"]), ms(airport["p50"])),
                     factor <= MAX_TRIP_LATENCY))
    return rows


def line(front: str, call: str, conns: int, r: dict) -> str:
    """One progress line."""
    cpu = " ".join("%s %.3f" % item for item in r.get("cpu", {}).items())
    return "%-10s %-18s c=%-3d %7.0f req/s p50 %s p99 %s ms non-2xx %d; %s" % (
        front, call, conns, r["rps"], ms(r["p50"]), ms(r["p99"]),
        r["non_2xx"] + r["socket_errors"], "CPU ms/req: " + cpu if cpu else "")


def _cell(value, fmt: str = "%.3f") -> str:
    return "-" if value is None else fmt % value


FRONT_ORDER = {FRONT: 0, BASELINE: 1, DIRECT: 2}


def main_table(meds: dict) -> list:
    out = [
        "| front | call | conns | rounds | req/s | p50 ms | p90 ms | p99 ms "
        "| non-2xx | front CPU | airports | trips | broker | redis | system "
        "| × baseline req/s | system CPU vs baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---:|---:|",
    ]
    calls = list(dict.fromkeys(call for _, call, _ in meds))
    keys = sorted(meds, key=lambda k: (calls.index(k[1]), k[2], FRONT_ORDER[k[0]]))
    for front, call, conns in keys:
        r = meds[front, call, conns]
        cpu = r.get("cpu", {})
        speedup = share = None
        baseline = meds.get((BASELINE, call, conns))
        if front == FRONT and baseline:
            speedup, share = ratios(r, baseline)
        out.append("| %s | %s | %d | %d | %.0f | %s | %s | %s | %d | %s | %s |"
                   % (front, call, conns, r.get("rounds", 1), r["rps"], ms(r["p50"]),
                      ms(r["p90"]), ms(r["p99"]), r["non_2xx"] + r["socket_errors"],
                      " | ".join(_cell(cpu.get(role))
                                 for role in (front, *BACKEND)),
                      _cell(r.get("system_ms")))
                   + " %s | %s |" % (_cell(speedup, "%.2f×"),
                                     _cell(share and share * 100, "%.0f%%")))
    return out


def scale_table(meds: dict, scaled: dict) -> list:
    """The gateway at TARGET_CONNS on 1 instance of each service (``meds``)
    against 2 (``scaled``: call -> median)."""
    out = ["| call | req/s, 1 + 1 | req/s, 2 + 2 | ratio | system CPU ms/req, 1 + 1 "
           "| 2 + 2 |", "|---|---:|---:|---:|---:|---:|"]
    for call, two in scaled.items():
        one = meds.get((FRONT, call, TARGET_CONNS))
        if one is None:
            continue
        out.append("| %s | %.0f | %.0f | %.2f× | %s | %s |" % (
            call, one["rps"], two["rps"], two["rps"] / one["rps"],
            _cell(one.get("system_ms")), _cell(two.get("system_ms"))))
    return out


def render(results: dict, scaled=None, soak=None, shed=None, label: str = "",
           settings=None) -> str:
    """``results``: (front, call, conns) -> rounds; ``scaled``: call -> rounds
    of the gateway at TARGET_CONNS with two instances of each service."""
    meds = medians(results)
    out = ["# Benchmark" + (": " + label if label else ""), ""]
    out += ["CPU columns: ms of CPU per request (utime + stime from /proc around "
            "each wrk run) of the front (the gateway, the baseline or the direct-"
            "RPC caller), each service (every request calls each service on its "
            "path once: per request is per call), RabbitMQ and Redis; system is "
            "their sum. Medians of the rounds.", ""]
    out += main_table(meds) + [""]
    rows = targets(meds)
    if rows:
        out += ["Targets (%d conns unless said; medians):" % TARGET_CONNS, "",
                "| target | call | figure | met |", "|---|---|---|---|"]
        out += ["| %s | %s | %s | %s |" % (target, call, figure,
                                           {True: "yes", False: "no"}.get(met, "-"))
                for target, call, figure, met in rows]
        out.append("")
    if scaled:
        out += ["Scale: the gateway at %d conns, 2 instances of each service "
                "against 1 (rounds interleaved):" % TARGET_CONNS, ""]
        out += scale_table(meds, {c: median(r) for c, r in scaled.items()}) + [""]
    out += _soak(soak) + _shed(shed)
    for key, value in (settings or {}).items():
        out.append("- %s: %s" % (key, value))
    return "\n".join(out) + "\n"


def _soak(soak) -> list:
    if not soak:
        return []
    run = soak["run"]
    return [
        "**%d requests** (GET /airport/<id> and POST /airport, 32 conns): "
        "%.0f req/s, non-2xx %d; gateway RSS %.1f → %.1f MiB (%+.1f%%); "
        "reply queues %d → %d." % (
            run["requests"], run["rps"], run["non_2xx"] + run["socket_errors"],
            soak["rss_before"] / 1024, soak["rss_after"] / 1024,
            100 * (soak["rss_after"] - soak["rss_before"]) / soak["rss_before"],
            soak["queues_before"], soak["queues_after"]),
        ""]


def _shed(shed) -> list:
    if not shed:
        return []
    run, again = shed["run"], shed["again"]
    codes = ", ".join("%d: %d" % item for item in sorted(run["status"].items()))
    out = [
        "**Overload, %d conns on GET /airport/<id>**: %.0f req/s (%s; "
        "socket errors %d), p50 %s ms, p99 %s ms, max %s ms; the same again: "
        "%.0f req/s, p50 %s ms, p99 %s ms, socket errors %d. Gateway RSS "
        "%.1f → %.1f → %.1f MiB. At 1 conn just before: p50 %s ms, %.0f req/s; "
        "just after: p50 %s ms, %.0f req/s, non-2xx %d." % (
            shed["conns"], run["rps"], codes, run["socket_errors"],
            ms(run["p50"]), ms(run["p99"]), ms(run["max"]),
            again["rps"], ms(again["p50"]), ms(again["p99"]),
            again["socket_errors"],
            shed["rss_before"] / 1024, shed["rss_after"] / 1024,
            shed["rss_again"] / 1024,
            ms(shed["before"]["p50"]), shed["before"]["rps"],
            ms(shed["after"]["p50"]), shed["after"]["rps"],
            shed["after"]["non_2xx"]),
        ""]
    times = shed.get("answer_times") or {}
    if times:
        out += ["The gateway's own time to answer in those runs (its access "
                "log): " + "; ".join(
                    "%d: %d answers, p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
                        status, len(values), percentile(values, 0.50),
                        percentile(values, 0.99), values[-1])
                    for status, values in sorted(times.items())) + ".", ""]
    return out
