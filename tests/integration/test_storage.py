"""The Redis storage, against the session's own Redis database."""
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from travel_common import idempotency
from travel_common.errors import (
    IdempotencyConflict,
    InUse,
    NotAcknowledged,
    NotFound,
    StoreUnavailable,
)
from travel_common.records import Records


@pytest.fixture
def records(redis_db):
    return Records(redis_db.client, "test-%s" % uuid.uuid4().hex[:8])


def test_record_is_a_hash_under_the_prefix(records, redis_db):
    record = records.create({"airport": "Lisbon"})
    key = "%s:rec:%s" % (records.prefix, record["id"])
    assert redis_db.client.type(key) == "hash"
    assert redis_db.client.hgetall(key) == {"airport": "Lisbon", "seq": "1"}
    assert records.get(record["id"]) == record


def test_idempotent_create(records):
    first = records.create({"airport": "A"}, idempotency_key="client:k")
    assert records.create({"airport": "A"}, idempotency_key="client:k") == first
    with pytest.raises(IdempotencyConflict):
        records.create({"airport": "B"}, idempotency_key="client:k")
    assert records.page(10)["items"] == [first]


def test_a_create_with_a_key_is_one_round_trip(records, monkeypatch):
    """The claim, the record and the claim's answer: one script."""
    sent = []
    execute = records.client.execute_command
    monkeypatch.setattr(records.client, "execute_command",
                        lambda *args, **options: sent.append(args[0])
                        or execute(*args, **options))
    records.create({"airport": "A"}, idempotency_key="client:one")
    assert sent == ["EVALSHA"]


def test_a_claim_without_its_record_gets_it(records, redis_db):
    """A claim whose record was never stored (a create cut short before the
    claim and the record were written in one script) is completed with the
    claim's id."""
    claim = records.key("idem", "client:half")
    redis_db.client.hset(claim, mapping={
        "id": "c" * 32, "fp": idempotency.fingerprint({"airport": "A"})})
    record = records.create({"airport": "A"}, idempotency_key="client:half")
    assert record == {"id": "c" * 32, "airport": "A"}
    assert records.get("c" * 32) == record
    assert records.create({"airport": "A"}, idempotency_key="client:half") == record
    assert records.page(10)["items"] == [record]


def test_delete_with_guard(records, redis_db):
    record = records.create({"airport": "A"})
    redis_db.client.sadd(records.key("refs"), "trip")
    with pytest.raises(InUse):
        records.delete(record["id"], guard="refs")
    redis_db.client.delete(records.key("refs"))
    records.delete(record["id"], guard="refs")
    with pytest.raises(NotFound):
        records.get(record["id"])
    with pytest.raises(NotFound):
        records.delete(record["id"])


def test_pages_list_each_record_once_despite_deletes(records):
    created = [records.create({"airport": str(i)}) for i in range(25)]
    seen, cursor = [], None
    while True:
        page = records.page(4, cursor)
        seen += page["items"]
        if page["items"]:
            # deleting what was already listed shifts nothing
            records.delete(page["items"][0]["id"])
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == created


def test_unreachable_redis_is_store_unavailable():
    client = redis.Redis(port=1, socket_connect_timeout=0.2,
                         retry=Retry(NoBackoff(), 0))
    records = Records(client, "x")
    with pytest.raises(StoreUnavailable):
        records.get("a" * 32)
    with pytest.raises(StoreUnavailable):
        records.create({"airport": "A"}, idempotency_key="auto:3")


def test_a_write_no_replica_confirms_is_not_acknowledged(redis_db):
    """``REDIS_MIN_REPLICAS=1`` against a Redis without replicas: each write
    waits WAIT's timeout, then is refused; reads go on."""
    records = Records(redis_db.client, "test-%s" % uuid.uuid4().hex[:8],
                      min_replicas=1)
    started = time.monotonic()
    with pytest.raises(NotAcknowledged):
        records.create({"airport": "A"})
    assert 1 <= time.monotonic() - started < 2
    assert records.page(10)["items"][0]["airport"] == "A"  # it may stand
