"""The benchmark's baseline answers as the gateway does: same routes, same
JSON in and out, same success statuses.  The baseline is ``bench.baseline``
(nameko's ``@http`` calling the services through ``RpcProxy``) in front of
``bench.baseline_services`` (the services on nameko's stock plumbing), on a
vhost of their own and the session's Redis database."""

import re

import pytest
import requests

from bench.run import start_baseline, start_stock_services

from support import Vhost, count_consumers, wait_until

ID = re.compile(r"[0-9a-f]{32}")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def baseline(stack, tmp_path_factory):
    logs = tmp_path_factory.mktemp("baseline")
    vhost = Vhost()
    env = dict(stack.env, AMQP_URI=vhost.uri)
    processes = [process for _, process in start_stock_services(env, logs)]
    try:
        front, url = start_baseline(env, logs)
        processes.append(front)
        wait_until(lambda: answers(url + "/health"), 30, interval=0.2,
                   what="the baseline to answer")
        for name in ("airports_service", "trips_service"):
            wait_until(lambda name=name: count_consumers(vhost, name) == 1, 30,
                       interval=0.2, what="the stock %s" % name)
        yield url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.stop()
        vhost.delete()


def conversation(base: str) -> list:
    """The benchmark's four calls; each answer with its ids masked."""
    with requests.Session() as session:
        first = session.post(base + "/airport", json={"airport": " Lisbon "})
        second = session.post(base + "/airport", json={"airport": "Porto"})
        ids = first.json()["id"], second.json()["id"]
        answers = [
            first,
            session.get(base + "/airport/" + ids[0]),
            session.post(base + "/trip",
                         json={"airport_from": ids[0], "airport_to": ids[1]}),
            session.get(base + "/airports?limit=1"),
        ]
    return [(answer.status_code, answer.headers["Content-Type"],
             ID.sub("<id>", answer.headers.get("Location", "")),
             ID.sub("<id>", answer.text.replace(" ", "")))
            for answer in answers]


def test_baseline_answers_the_benchmark_calls_as_the_gateway(stack, baseline):
    ours = conversation(stack.url)
    assert [status for status, *_ in ours] == [201, 200, 201, 200]
    assert ours[0][1:] == ("application/json", "/airport/<id>",
                           '{"id":"<id>","airport":"Lisbon"}')
    assert conversation(baseline) == ours
