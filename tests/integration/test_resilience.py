"""Instances dying and restarting under load, with real processes: no call
lost, no record written twice, no error seen by clients."""
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support import AIRPORTS_MODULE, TRIPS_MODULE, LoadLoop, count_consumers, wait_until


@pytest.fixture(scope="module")
def cluster(stack_factory):
    """Two airports and two trips instances behind one gateway."""
    return stack_factory(airports=2, trips=2)


def consuming(stack, service_name, count):
    wait_until(lambda: count_consumers(stack.vhost, service_name) == count, 30,
               interval=0.2, what="%d consumers of %s" % (count, service_name))


def stored_airports(database, prefix) -> dict:
    """Every airport record in the store whose name starts with ``prefix``."""
    client = database.client
    ids = client.zrange("airports:index", 0, -1)
    names = client.pipeline()
    for record_id in ids:
        names.hget("airports:rec:" + record_id, "airport")
    records = zip(ids, names.execute(), strict=True)
    return {i: name for i, name in records if name and name.startswith(prefix)}


def test_kill_9_mid_burst_loses_no_call_and_writes_once(cluster):
    victim = cluster.running("airports")[0]
    burst = 400
    done = []

    def create(i):
        response = requests.post(cluster.url + "/airport",
                                 json={"airport": "burst-%d" % i}, timeout=30)
        done.append(i)
        return response.status_code, response.json()

    with ThreadPoolExecutor(48) as pool:
        futures = [pool.submit(create, i) for i in range(burst)]
        wait_until(lambda: len(done) >= burst // 4, 30, interval=0.005,
                   what="a quarter of the burst")
        victim.kill()  # SIGKILL: its unacked calls go to the other instance
        in_flight_at_kill = burst - len(done)
        results = [future.result() for future in futures]

    print("kill -9 with %d of %d requests unanswered" % (in_flight_at_kill, burst))
    assert in_flight_at_kill > 0
    assert [status for status, _ in results] == [201] * burst
    answered = {body["id"]: body["airport"] for _, body in results}
    assert len(answered) == burst
    # exactly one record per 201: none lost, none written twice
    assert stored_airports(cluster.database, "burst-") == answered

    cluster.replace(victim)  # dead already
    consuming(cluster, "airports_service", 2)


def test_rolling_restart_under_load_gives_no_errors(cluster):
    a = requests.post(cluster.url + "/airport", json={"airport": "A"}).json()
    b = requests.post(cluster.url + "/airport", json={"airport": "B"}).json()
    turns = itertools.count()

    def request(session):
        turn = next(turns) % 3
        if turn == 0:
            return session.get(cluster.url + "/airport/" + a["id"], timeout=30)
        if turn == 1:
            return session.post(cluster.url + "/airport",
                                json={"airport": "rolling"}, timeout=30)
        return session.post(cluster.url + "/trip", timeout=30,
                            json={"airport_from": a["id"], "airport_to": b["id"]})

    with LoadLoop(request, threads=4) as load:
        for module, service_name in [(AIRPORTS_MODULE, "airports_service"),
                                     (TRIPS_MODULE, "trips_service")]:
            for old in cluster.running(module.split("_")[0]):
                old.stop()  # one SIGTERM: finishes its calls in hand, then exits
                cluster.services.remove(old)
                consuming(cluster, service_name, 1)
                cluster.add_service(module)
                consuming(cluster, service_name, 2)

    print("rolling restart of 4 instances: %d requests, statuses %s"
          % (len(load.outcomes), sorted(load.statuses())))
    assert len(load.outcomes) > 100
    assert load.statuses() <= {200, 201}
