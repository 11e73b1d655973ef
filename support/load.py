"""Load on a gateway: threads sending requests in a loop, or a fixed burst
of GETs over keep-alive connections."""
import http.client
import threading
import time

import requests


class LoadLoop:
    """Threads sending requests in a loop; every outcome is kept.

    ``make_request(session)`` sends one request and returns the response.
    Outcomes are (started at, status or the exception's name, seconds).
    """

    def __init__(self, make_request, threads: int = 4):
        self.make_request = make_request
        self.threads = threads
        self.outcomes = []
        self._stop = threading.Event()
        self._workers = []

    def __enter__(self):
        for _ in range(self.threads):
            worker = threading.Thread(target=self._loop, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def _loop(self):
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    outcome = self.make_request(session).status_code
                except requests.RequestException as error:
                    outcome = type(error).__name__
                self.outcomes.append((started, outcome, time.monotonic() - started))
                if outcome != 200 and outcome != 201:
                    time.sleep(0.05)  # as a client would, a little, on errors

    def since(self, moment: float) -> list:
        return [o for o in self.outcomes if o[0] >= moment]

    def statuses(self, outcomes=None) -> set:
        if outcomes is None:
            outcomes = self.outcomes
        return {status for _, status, _ in outcomes}


def hammer(base_url: str, path: str, total: int, concurrency: int) -> dict:
    """``total`` GETs of ``path`` over ``concurrency`` keep-alive connections;
    how many of each status came back."""
    host, port = base_url.split("//")[1].split(":")
    counts = {}
    lock = threading.Lock()
    per_worker = [total // concurrency + (i < total % concurrency)
                  for i in range(concurrency)]

    def work(count):
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        seen = {}
        for _ in range(count):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            seen[response.status] = seen.get(response.status, 0) + 1
        connection.close()
        with lock:
            for status, n in seen.items():
                counts[status] = counts.get(status, 0) + n

    workers = [threading.Thread(target=work, args=(n,)) for n in per_worker]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts
