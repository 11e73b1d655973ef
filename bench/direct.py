"""The direct-RPC ceiling: the same RPCs as the HTTP routes, through nameko's
standalone ``ClusterRpcProxy`` with its defaults, no HTTP.

``python -m bench.direct AMQP_URI CALLS_FILE CONNS SECONDS`` runs CONNS
threads, each with its own long-lived ``ClusterRpcProxy`` calling in a loop
for SECONDS, and prints one ``BENCH {json}`` line shaped like wrk.lua's,
with ``cpu_ms``: the process's CPU time per call.
CALLS_FILE holds one call per line: ``[service, method, args, kwargs]``.
"""

import json
import sys
import threading
import time
import uuid

from nameko.standalone.rpc import ClusterRpcProxy

from bench.report import percentile
from travel_common.call_context import REQUEST_ID


def worker(uri, calls, offset, start, stop, latencies, failures):
    context = {REQUEST_ID: uuid.uuid4().hex}
    with ClusterRpcProxy({"AMQP_URI": uri}, context, timeout=10) as proxy:
        start.wait()
        index = offset
        while not stop.is_set():
            service, method, args, kwargs = calls[index % len(calls)]
            index += 1
            began = time.perf_counter()
            try:
                getattr(getattr(proxy, service), method)(*args, **kwargs)
            except Exception:  # counted, like a non-2xx answer
                failures.append(1)
            latencies.append(time.perf_counter() - began)


def main() -> None:
    uri, calls_file, conns, seconds = sys.argv[1:5]
    with open(calls_file) as lines:
        calls = [json.loads(line) for line in lines if line.strip()]
    start, stop = threading.Barrier(int(conns) + 1), threading.Event()
    latencies, failures = [], []
    threads = [
        threading.Thread(
            target=worker,
            args=(uri, calls, n * 7, start, stop, latencies, failures),
            daemon=True,
        )
        for n in range(int(conns))
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began, cpu_began = time.perf_counter(), time.process_time()
    time.sleep(float(seconds))
    count = len(latencies)
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    stop.set()
    for thread in threads:
        thread.join(15)
    ordered = sorted(latencies[:count])
    us = 1e6
    print("BENCH " + json.dumps({
        "requests": count,
        "duration_us": int(elapsed * us),
        "p50": int(percentile(ordered, 0.50) * us),
        "p90": int(percentile(ordered, 0.90) * us),
        "p99": int(percentile(ordered, 0.99) * us),
        "max": int(ordered[-1] * us) if ordered else 0,
        "status": {"200": count - len(failures), "500": len(failures)},
        "connect": 0, "read": 0, "write": 0, "timeout": 0,
        "cpu_ms": cpu * 1000 / max(count, 1),
    }), flush=True)


if __name__ == "__main__":
    main()
