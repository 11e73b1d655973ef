"""Parsing of wrk.lua's and direct.py's output, and the results table."""

import json


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


def line(row) -> str:
    target, call, conns, r = row
    cpu = " cpu %.3f ms/req" % r["cpu_ms"] if "cpu_ms" in r else ""
    return "%-10s %-18s c=%-3d %7.0f req/s p50 %s p99 %s ms non-2xx %d%s" % (
        target, call, conns, r["rps"], ms(r["p50"]), ms(r["p99"]),
        r["non_2xx"] + r["socket_errors"], cpu)


def _pct(part: float, whole: float) -> str:
    return "%.0f%%" % (100 * part / whole) if whole else "-"


def render(rows, soak: dict, shed: dict, label: str = "", settings=None) -> str:
    direct = {(call, conns): r for target, call, conns, r in rows
              if target == "direct RPC"}
    out = ["# Benchmark" + (": " + label if label else ""), ""]
    out += ["| path | call | conns | req/s | p50 ms | p90 ms | p99 ms | non-2xx "
            "| CPU ms/req | % of direct |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for target, call, conns, r in rows:
        ceiling = direct.get((call, conns)) if target == "gateway" else None
        out.append("| %s | %s | %d | %.0f | %s | %s | %s | %d | %s | %s |" % (
            target, call, conns, r["rps"], ms(r["p50"]), ms(r["p90"]),
            ms(r["p99"]), r["non_2xx"] + r["socket_errors"],
            "%.3f" % r["cpu_ms"] if "cpu_ms" in r else "-",
            _pct(r["rps"], ceiling["rps"]) if ceiling else "-"))
    out.append("")
    if soak:
        run = soak["run"]
        out += [
            "**%d requests** (GET /airport/<id> and POST /airport, 32 conns): "
            "%.0f req/s, "
            "non-2xx %d; gateway RSS %.1f → %.1f MiB (%+.1f%%); "
            "reply queues %d → %d." % (
                run["requests"], run["rps"], run["non_2xx"] + run["socket_errors"],
                soak["rss_before"] / 1024, soak["rss_after"] / 1024,
                100 * (soak["rss_after"] - soak["rss_before"]) / soak["rss_before"],
                soak["queues_before"], soak["queues_after"]),
            ""]
    if shed:
        run = shed["run"]
        codes = ", ".join("%d: %d" % item for item in sorted(run["status"].items()))
        again = shed["again"]
        out += [
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
    for key, value in (settings or {}).items():
        out.append("- %s: %s" % (key, value))
    return "\n".join(out) + "\n"
