"""Query strings of the list endpoints."""

from marshmallow import Schema, fields, validate

from schemas.fields import RecordId

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageQuery(Schema):
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        strict=False,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": "Page size, 1-100."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{1,16}$", error="Not a valid cursor."),
        metadata={"description": "The `next` value of the previous page."},
    )


class AirportPageQuery(PageQuery):
    pass


class TripPageQuery(PageQuery):
    airport = RecordId(
        load_default=None,
        metadata={"description": "Only trips from or to this airport."},
    )


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The schema of one page of a list: ``{"items": [...], "next": cursor}``."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next": fields.String(
                required=True,
                allow_none=True,
                metadata={
                    "description": "Cursor of the next page; null on the last.",
                    "example": "20",
                },
            ),
        },
        name=name,
    )
