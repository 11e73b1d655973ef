import json
import logging

import pytest

from travel_common.logs import RequestIdFilter, make_formatter, mask_secrets


@pytest.mark.parametrize(
    "text, masked",
    [
        ("amqp://guest:s3cret@h1:5672/", "amqp://guest:****@h1:5672/"),
        (
            "at amqp://u:p1@h1:5701/;amqp://u:p2@h2:5702/v;amqps://u:p3@h3/",
            "at amqp://u:****@h1:5701/;amqp://u:****@h2:5702/v;amqps://u:****@h3/",
        ),
        ("redis://:pw@redis:6379/0", "redis://:****@redis:6379/0"),
        (
            "redis+sentinel://:pw@s1:26379,s2:26379/mymaster/0",
            "redis+sentinel://:****@s1:26379,s2:26379/mymaster/0",
        ),
        ("amqp://h1:5672/ and amqp://guest@h2/", "amqp://h1:5672/ and amqp://guest@h2/"),
        ("no uri here: a:b@c", "no uri here: a:b@c"),
    ],
)
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_both_formats_mask_every_uri_of_a_line(log_format):
    record = logging.LogRecord(
        "nameko.messaging", logging.ERROR, __file__, 1,
        "Error connecting to broker at %s", ("amqp://u:p1@h1/;amqp://u:p2@h2/",), None,
    )
    RequestIdFilter().filter(record)
    line = make_formatter(log_format).format(record)
    assert "p1" not in line and "p2" not in line
    assert "amqp://u:****@h1/;amqp://u:****@h2/" in line
    if log_format == "json":
        assert json.loads(line)["logger"] == "nameko.messaging"


def test_records_are_lean_once_a_formatter_is_made(monkeypatch):
    """``lean_records``: no caller, thread or process is looked up for a
    record; no line of ours prints them, and a line is whole without them."""
    for switch in ("_srcfile", "logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, switch, getattr(logging, switch))
    formatter = make_formatter("json")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("lean")
    logger.addHandler(handler)
    try:
        logger.warning("rpc %s", "ok", extra={"request_id": "r1"})
    finally:
        logger.removeHandler(handler)
    [record] = records
    assert (record.funcName, record.lineno) == ("(unknown function)", 0)
    assert (record.thread, record.threadName, record.process) == (None, None, None)
    line = json.loads(formatter.format(record))
    assert (line["message"], line["request_id"]) == ("rpc ok", "r1")
