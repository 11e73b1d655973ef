from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.fields import RecordId


class TripSchema(Schema):
    """A trip between two different airports, given by their ids."""

    id = fields.String(
        dump_only=True, metadata={"example": "9b2e7d4c1a0f4e8d9c7b6a5f4e3d2c1b"}
    )
    airport_from = RecordId(
        required=True,
        metadata={
            "description": "Airport id.",
            "example": "3f1c0d7e6a2b4c5d8e9f0a1b2c3d4e5f",
        },
    )
    airport_to = RecordId(
        required=True,
        metadata={
            "description": "Airport id.",
            "example": "5e4d3c2b1a0f4e9d8c7b6a5f4e3d2c1a",
        },
    )

    @validates_schema
    def airports_differ(self, data, **kwargs):
        if data.get("airport_from") and data.get("airport_from") == data.get(
            "airport_to"
        ):
            raise ValidationError(
                "Must differ from airport_from.", field_name="airport_to"
            )
