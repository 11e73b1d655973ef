"""The audit's findings on hand-made stores, one kind of breakage at a time."""
import pytest

from travel_common.audit import Finding, Report, Snapshot, findings

A, B, C = "a" * 32, "b" * 32, "c" * 32
T, U = "1" * 32, "2" * 32


def consistent() -> Snapshot:
    """Airports A, B, C; trip T from A to B, referenced and indexed."""
    return Snapshot(
        now=1000.0,
        airports={A, B, C},
        refs={A: {T}, B: {T}},
        trips={T: (A, B)},
        index={T},
        by_airport={A: {T}, B: {T}},
    )


def kinds(found: list) -> list:
    return [finding.kind for finding in found]


def test_a_consistent_store_has_no_finding():
    assert findings(consistent()) == ([], [])
    assert findings(Snapshot()) == ([], [])


def test_orphan_reference():
    seen = consistent()
    seen.refs[C] = {U}
    assert findings(seen) == (
        [Finding("orphan reference",
                 "airport %s references trip %s, which is not stored" % (C, U))],
        [],
    )


def test_reference_of_a_trip_that_owes_a_step_is_pending_not_broken():
    seen = consistent()
    seen.refs[C] = {U}
    seen.steps[U] = {"state": "undo", "airports": "%s,%s" % (A, C)}
    seen.schedule[U] = 995.5
    assert findings(seen) == (
        [],
        [Finding("owed step", "trip %s, airports %s, %s: release owed (undo), "
                 "overdue by 4.5s" % (U, A, C))],
    )
    seen.steps[U]["state"] = "pending"
    seen.schedule[U] = 1003.0
    assert findings(seen)[1][0].detail.endswith(": create under way, due in 3.0s")


def test_wrong_reference():
    seen = consistent()
    seen.refs[C] = {T}
    assert findings(seen)[0] == [
        Finding("wrong reference",
                "airport %s references trip %s, which does not use it" % (C, T))
    ]


@pytest.mark.parametrize("airport", [A, B])
def test_missing_reference(airport):
    seen = consistent()
    seen.refs[airport] = set()
    assert findings(seen)[0] == [
        Finding("missing reference",
                "trip %s uses airport %s, which does not reference it" % (T, airport))
    ]


def test_missing_airport():
    seen = consistent()
    seen.airports.discard(B)
    assert kinds(findings(seen)[0]) == [
        "references of a missing airport", "missing airport"]


def test_index_entries_that_disagree_with_the_trips():
    seen = consistent()
    seen.by_airport[C] = {T}
    seen.by_airport[A] = set()
    seen.index = {U}
    assert kinds(findings(seen)[0]) == [
        "missing index entry",  # T not listed for A
        "missing index entry",  # T not in the index
        "stale index entry",  # T listed for C
        "stale index entry",  # U listed, not stored
    ]


def test_steps_that_would_break_the_store_or_never_run():
    seen = consistent()
    seen.steps[T] = {"state": "release", "airports": "%s,%s" % (A, B)}
    seen.schedule[T] = 990.0
    seen.steps[U] = {"state": "undo", "airports": "%s,%s" % (A, B)}
    assert kinds(findings(seen)[0]) == ["stored trip with a step", "unscheduled step"]


def test_report_lines_and_counts():
    seen = consistent()
    seen.refs[C] = {U}
    broken, pending = findings(seen)
    report = Report(broken, pending, {"airports": 3, "trips": 1, "steps": 0})
    assert report.lines() == [
        "BROKEN orphan reference: airport %s references trip %s, which is not stored"
        % (C, U),
        "checked 3 airports, 1 trips, 0 owed steps: 1 broken, 0 pending",
    ]
    assert report.as_dict()["broken"] == [
        {"kind": "orphan reference", "detail": broken[0].detail}]
