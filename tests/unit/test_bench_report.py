"""The benchmark's parsing of wrk.lua / direct.py output, its medians of
rounds, ratios to the baseline, targets and tables."""

from bench import report

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
BENCH {"requests": 1000, "duration_us": 2000000, "p50": 1500, "p90": 3000, \
"p99": 12000, "max": 20000, "status": {"200": 990, "503": 10}, "connect": 0, \
"read": 1, "write": 0, "timeout": 2}
"""


def run(rps, p50=1000, non_2xx=0, **cpu):
    """A run's result as the bench keeps it (``cpu``: ms per request by role)."""
    return {"rps": rps, "requests": int(rps * 5), "duration_us": 5_000_000,
            "p50": p50, "p90": 2 * p50, "p99": 3 * p50, "max": 4 * p50,
            "status": {200: int(rps * 5)}, "non_2xx": non_2xx, "socket_errors": 0,
            "cpu": cpu}


def system(front, airports, trips=0.0, broker=0.5, redis=0.1, role="gateway"):
    return {role: front, "airports": airports, "trips": trips, "broker": broker,
            "redis": redis}


def test_parse_counts_non_2xx_and_socket_errors():
    result = report.parse(WRK_OUTPUT)
    assert result["rps"] == 500
    assert result["status"] == {200: 990, 503: 10}
    assert result["non_2xx"] == 10
    assert result["socket_errors"] == 3


def test_median_of_rounds_takes_each_figure_and_sums_failures():
    runs = [run(900, 1000, 1, **system(0.3, 1.0)),
            run(1000, 3000, 0, **system(0.2, 1.2)),
            run(1100, 2000, 2, **system(0.4, 0.8))]
    med = report.median(runs)
    assert med["rounds"] == 3
    assert med["rps"] == 1000
    assert med["p50"] == 2000
    assert med["non_2xx"] == 3
    assert med["cpu"] == {"gateway": 0.3, "airports": 1.0, "trips": 0.0,
                          "broker": 0.5, "redis": 0.1}
    # The median of each round's whole-system sum, not the sum of medians.
    assert med["system_ms"] == 0.3 + 1.0 + 0.5 + 0.1


def test_the_direct_caller_alone_is_no_whole_system_figure():
    med = report.median([run(500, **{report.DIRECT: 0.4})])
    assert "system_ms" not in med
    assert report.system_ms(med) is None


def test_ratios_to_the_baseline():
    ours = report.median([run(2000, **system(0.25, 0.9))])
    theirs = report.median([run(800, **system(1.5, 0.9, broker=1.1,
                                              role="baseline"))])
    speedup, share = report.ratios(ours, theirs)
    assert speedup == 2.5
    assert round(share, 4) == round(1.75 / 3.6, 4)


def medians_for(gateway: dict, baseline: dict, trip_p50=None) -> dict:
    """Medians keyed as the bench keys them, for the three target calls."""
    meds = {}
    for call in report.TARGET_CALLS:
        meds["gateway", call, 32] = report.median([gateway[call]])
        meds["baseline", call, 32] = report.median([baseline[call]])
    if trip_p50:
        meds["gateway", "POST /trip", 1] = report.median([run(100, trip_p50[0])])
        meds["gateway", "POST /airport", 1] = report.median([run(300, trip_p50[1])])
    return meds


def test_targets_met():
    gateway = {call: run(2000, **system(0.4, 0.3, trips=0.35, broker=0.2))
               for call in report.TARGET_CALLS}
    baseline = {call: run(900, **system(1.5, 0.9, 0.9, role="baseline"))
                for call in report.TARGET_CALLS}
    rows = report.targets(medians_for(gateway, baseline, trip_p50=(3000, 1600)))
    assert [met for *_, met in rows] == [True] * len(rows)
    # Per call: req/s, CPU share, and one row per service the call reaches.
    assert len(rows) == 3 + 3 + 4 + 1
    assert rows[0] == ("req/s ≥ 2× the baseline's", "GET /airport/<id>",
                       "2.22× (2000 against 900)", True)
    assert rows[-1] == ("p50 at 1 conn ≤ 2× POST /airport's", "POST /trip",
                        "1.88× (3.00 against 1.60 ms)", True)


def test_targets_missed():
    gateway = {call: run(1500, **system(0.3, 1.2, trips=2.5, broker=0.6))
               for call in report.TARGET_CALLS}
    baseline = {call: run(1000, **system(0.9, 1.2, trips=2.5, broker=1.2,
                                         role="baseline"))
                for call in report.TARGET_CALLS}
    rows = report.targets(medians_for(gateway, baseline, trip_p50=(4500, 1500)))
    by_target = {(target, call): (figure, met) for target, call, figure, met in rows}
    assert by_target["req/s ≥ 2× the baseline's", "POST /airport"] == (
        "1.50× (1500 against 1000)", False)
    figure, met = by_target[
        "whole-system CPU per request ≤ 50% of the baseline's", "POST /trip"]
    assert (figure, met) == ("80% (4.700 against 5.900 ms)", False)
    assert by_target["trips's CPU per call ≤ the gateway's per request",
                     "POST /trip"] == ("2.500 against 0.300 ms", False)
    assert by_target["p50 at 1 conn ≤ 2× POST /airport's", "POST /trip"] == (
        "3.00× (4.50 against 1.50 ms)", False)


def test_targets_skip_calls_without_a_baseline():
    meds = {("gateway", "POST /airport", 32): report.median(
        [run(2000, **system(0.3, 0.3))])}
    assert report.targets(meds) == []


def test_table_puts_the_gateway_against_the_baseline():
    results = {
        ("gateway", "GET /x", 32): [run(2000, **system(0.25, 0.5))],
        ("baseline", "GET /x", 32): [run(1000, **system(1.0, 0.5, broker=1.0,
                                                        role="baseline"))],
        ("direct RPC", "GET /x", 32): [run(1500, **{"direct RPC": 0.4})],
    }
    table = report.render(results)
    assert ("| gateway | GET /x | 32 | 1 | 2000 | 1.00 | 2.00 | 3.00 | 0 | 0.250 "
            "| 0.500 | 0.000 | 0.500 | 0.100 | 1.350 | 2.00× | 52% |") in table
    assert ("| baseline | GET /x | 32 | 1 | 1000 | 1.00 | 2.00 | 3.00 | 0 | 1.000 "
            "| 0.500 | 0.000 | 1.000 | 0.100 | 2.600 | - | - |") in table
    assert "| direct RPC | GET /x | 32 | 1 | 1500 |" in table
    lines = table.splitlines()
    assert [line.split(" | ")[0] for line in lines if "| GET /x |" in line] == [
        "| gateway", "| baseline", "| direct RPC"]


def test_scale_table_gives_the_ratio_of_two_instances_to_one():
    results = {("gateway", "POST /trip", 32): [run(400, **system(0.5, 1, 2))]}
    scaled = {"POST /trip": [run(500, **system(0.5, 1.2, 2.2)),
                             run(520, **system(0.5, 1.2, 2.2))]}
    table = report.render(results, scaled)
    assert "| POST /trip | 400 | 510 | 1.27× | 4.100 | 4.500 |" in table
