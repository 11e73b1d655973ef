from marshmallow import Schema, fields

from schemas.fields import Name


class AirportSchema(Schema):
    """An airport. ``airport`` is its name, as in the tutorial."""

    id = fields.String(
        dump_only=True, metadata={"example": "3f1c0d7e6a2b4c5d8e9f0a1b2c3d4e5f"}
    )
    airport = Name(
        required=True,
        max_length=100,
        metadata={
            "description": "Name, stripped, 1-100 characters.",
            "example": "Lisbon",
        },
    )
