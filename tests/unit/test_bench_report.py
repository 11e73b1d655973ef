"""The benchmark's parsing of wrk.lua / direct.py output, and its table."""

from bench import report

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
BENCH {"requests": 1000, "duration_us": 2000000, "p50": 1500, "p90": 3000, \
"p99": 12000, "max": 20000, "status": {"200": 990, "503": 10}, "connect": 0, \
"read": 1, "write": 0, "timeout": 2}
"""


def test_parse_counts_non_2xx_and_socket_errors():
    result = report.parse(WRK_OUTPUT)
    assert result["rps"] == 500
    assert result["status"] == {200: 990, 503: 10}
    assert result["non_2xx"] == 10
    assert result["socket_errors"] == 3


def test_render_puts_gateway_against_direct():
    gateway = dict(report.parse(WRK_OUTPUT), cpu_ms=0.25)
    direct = report.parse(WRK_OUTPUT.replace('"requests": 1000', '"requests": 1250'))
    table = report.render(
        [("gateway", "GET /x", 32, gateway), ("direct RPC", "GET /x", 32, direct)],
        soak={}, shed={},
    )
    row = "| gateway | GET /x | 32 | 500 | 1.50 | 3.00 | 12.0 | 13 | 0.250 | 80% |"
    assert row in table
    assert "| direct RPC | GET /x | 32 | 625 |" in table
