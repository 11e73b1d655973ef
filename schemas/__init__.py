"""Marshmallow schemas shared by the gateway (to validate requests) and the
services (to load arguments and dump records)."""

from schemas.airport import AirportSchema
from schemas.paging import AirportPageQuery, TripPageQuery, page_schema
from schemas.problem import ProblemSchema
from schemas.trip import TripSchema

AirportPage = page_schema(AirportSchema, "AirportPage")
TripPage = page_schema(TripSchema, "TripPage")

__all__ = [
    "AirportSchema",
    "TripSchema",
    "AirportPageQuery",
    "TripPageQuery",
    "AirportPage",
    "TripPage",
    "ProblemSchema",
]
