"""The services' own decisions, each service alone (nameko's
``worker_factory``: its storage and the airports service are stand-ins):
what becomes which error, which step is owed, released or settled.  The
same services against real RabbitMQ and Redis: ``test_services_rpc.py``,
``test_owed_steps.py``, ``test_consistency.py``."""

import pytest
from nameko.cli.run import import_service
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.testing.services import worker_factory

from airports_svc.service import AirportsService
from travel_common import errors
from trips_svc.owed import RELEASE, UNDO, Opened, Step
from trips_svc.service import TripsService

A, B, TRIP = "a" * 32, "b" * 32, "c" * 32
STORED = {"id": TRIP, "airport_from": A, "airport_to": B}


@pytest.fixture
def trips():
    """The trips service, its caller giving no deadline; a create of ``TRIP``
    under way, both airports found, the trip stored."""
    service = worker_factory(TripsService, caller_deadline=None)
    service.records.open_create.return_value = Opened(TRIP)
    service.airports.reserve.return_value = []
    service.records.finish_trip.return_value = STORED
    service.records.abandon.return_value = True
    return service


def test_each_module_runs_one_service():
    """``nameko run airports_svc.service`` finds its service and no other
    (the services' shared base has entrypoints of its own)."""
    assert import_service("airports_svc.service") == [AirportsService]
    assert import_service("trips_svc.service") == [TripsService]


def test_a_trip_is_stored_once_its_airports_are_reserved(trips):
    assert trips.create(A, B, idempotency_key="auto:1") == STORED
    trips.records.open_create.assert_called_once_with(
        {"airport_from": A, "airport_to": B}, [A, B], "auto:1", None)
    trips.airports.reserve.assert_called_once_with([A, B], TRIP)
    trips.records.finish_trip.assert_called_once_with(
        TRIP, {"airport_from": A, "airport_to": B}, "auto:1")
    trips.airports.release.assert_not_called()


def test_a_repeated_create_answers_the_first_one(trips):
    trips.records.open_create.return_value = Opened(None, STORED)
    assert trips.create(A, B, idempotency_key="client:k") == STORED
    trips.airports.reserve.assert_not_called()


def test_a_missing_airport_is_invalid_and_the_reservation_undone(trips):
    trips.airports.reserve.return_value = [B]
    with pytest.raises(errors.Invalid) as raised:
        trips.create(A, B)
    assert raised.value.errors == {"airport_to": ["Airport not found."]}
    trips.records.finish_trip.assert_not_called()
    trips.records.abandon.assert_called_once_with(TRIP)
    trips.airports.release.assert_called_once_with([A, B], TRIP)
    trips.records.settle.assert_called_once_with(Step(TRIP, UNDO, [A, B]))


def test_the_same_airport_twice_is_invalid_before_anything_is_owed(trips):
    with pytest.raises(errors.Invalid) as raised:
        trips.create(A, A)
    assert raised.value.errors == {"airport_to": ["Must differ from airport_from."]}
    trips.records.open_create.assert_not_called()


@pytest.mark.parametrize("failure", [
    UnknownService("airports_service"), ConnectionResetError(104, "reset")])
def test_airports_unreachable_is_dependency_unavailable(trips, failure):
    trips.airports.reserve.side_effect = failure
    trips.airports.release.side_effect = failure
    with pytest.raises(errors.DependencyUnavailable):
        trips.create(A, B)
    trips.records.abandon.assert_called_once_with(TRIP)
    trips.records.settle.assert_not_called()  # the release stays owed


def test_airports_answering_too_late_is_dependency_unavailable(trips):
    """The service proxy waits no longer than the caller does, then raises
    ``RpcTimeout`` (``travel_common.service_calls``): that is a 503."""
    trips.airports.reserve.side_effect = RpcTimeout(0.2)
    with pytest.raises(errors.DependencyUnavailable):
        trips.create(A, B)
    trips.records.abandon.assert_called_once_with(TRIP)


def test_a_trip_released_meanwhile_is_interrupted(trips):
    trips.airports.reserve.side_effect = errors.Released()
    with pytest.raises(errors.Interrupted):
        trips.create(A, B)
    trips.records.abandon.assert_called_once_with(TRIP)


def test_a_create_undone_meanwhile_releases_nothing_itself(trips):
    """Stored or undone by another call meanwhile: not ours to release."""
    trips.airports.reserve.side_effect = errors.Released()
    trips.records.abandon.return_value = False
    with pytest.raises(errors.Interrupted):
        trips.create(A, B)
    trips.airports.release.assert_not_called()


def test_a_create_past_its_deadline_releases_its_reservation(trips):
    trips.records.finish_trip.side_effect = errors.DeadlineExceeded()
    with pytest.raises(errors.DeadlineExceeded):
        trips.create(A, B)
    trips.airports.release.assert_called_once_with([A, B], TRIP)
    trips.records.settle.assert_called_once_with(Step(TRIP, UNDO, [A, B]))


def test_a_delete_stands_when_its_release_fails(trips):
    trips.records.get.return_value = STORED
    trips.records.delete_trip.return_value = Step(TRIP, RELEASE, [A, B])
    trips.airports.release.side_effect = UnknownService("airports_service")
    assert trips.delete(TRIP) is None
    trips.records.delete_trip.assert_called_once_with(STORED, [A, B])
    trips.records.settle.assert_not_called()  # owed: settled by a later round


def test_a_round_of_owed_steps_stops_at_the_first_failure(trips):
    steps = [Step(TRIP, UNDO, [A, B]), Step("d" * 32, RELEASE, [A, B])]
    trips.records.take_due.return_value = steps
    trips.airports.release.side_effect = UnknownService("airports_service")
    trips.settle_owed_steps()
    trips.airports.release.assert_called_once_with([A, B], TRIP)
    trips.records.settle.assert_not_called()


def test_a_round_settles_every_step_it_released(trips):
    steps = [Step(TRIP, UNDO, [A, B]), Step("d" * 32, RELEASE, [B, A])]
    trips.records.take_due.return_value = steps
    trips.settle_owed_steps()
    assert [call.args[0] for call in trips.records.settle.call_args_list] == steps


def test_a_round_without_the_store_releases_nothing(trips):
    trips.records.take_due.side_effect = errors.StoreUnavailable()
    trips.settle_owed_steps()
    trips.airports.release.assert_not_called()


def test_trips_are_listed_by_airport_or_all(trips):
    page = {"items": [STORED], "next": None}
    trips.records.page_for_airport.return_value = dict(page)
    assert trips.list(airport=A, limit=5) == page
    trips.records.page_for_airport.assert_called_once_with(A, 5, None)
    trips.records.page.return_value = dict(page)
    assert trips.list() == page
    trips.records.page.assert_called_once_with(20, None)


def test_an_airport_name_is_loaded_before_it_is_stored():
    airports = worker_factory(AirportsService)
    airports.records.create.return_value = {"id": A, "airport": "Lisbon"}
    assert airports.create(" Lisbon ") == {"id": A, "airport": "Lisbon"}
    airports.records.create.assert_called_once_with(
        {"airport": "Lisbon"}, idempotency_key=None)
    with pytest.raises(errors.Invalid) as raised:
        airports.create("")
    assert raised.value.errors == {"airport": ["Length must be between 1 and 100."]}
    assert airports.records.create.call_count == 1


def test_a_bad_page_query_is_invalid():
    airports = worker_factory(AirportsService)
    with pytest.raises(errors.Invalid) as raised:
        airports.list(limit=0)
    assert raised.value.errors == {"limit": [
        "Must be greater than or equal to 1 and less than or equal to 100."]}
    airports.records.page.assert_not_called()


def test_health_reports_the_store():
    airports = worker_factory(AirportsService)
    airports.records.ping.return_value = "up"
    assert airports.health() == {"redis": "up"}
    airports.records.ping.side_effect = errors.StoreUnavailable()
    with pytest.raises(errors.StoreUnavailable):
        airports.health()
