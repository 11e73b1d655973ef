from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.fields import RecordId


class TripSchema(Schema):
    """A trip between two different airports, given by their ids."""

    id = fields.String(dump_only=True)
    airport_from = RecordId(required=True, metadata={"description": "Airport id."})
    airport_to = RecordId(required=True, metadata={"description": "Airport id."})

    @validates_schema
    def airports_differ(self, data, **kwargs):
        if data.get("airport_from") and data.get("airport_from") == data.get(
            "airport_to"
        ):
            raise ValidationError(
                "Must differ from airport_from.", field_name="airport_to"
            )
