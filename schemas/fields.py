"""Field types used by several schemas."""

import unicodedata

from marshmallow import fields

from travel_common.ids import is_id


class RecordId(fields.String):
    """A record id: 32 lowercase hex characters."""

    default_error_messages = {"invalid_id": "Not a valid id."}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_id(value):
            raise self.make_error("invalid_id")
        return value


class Name(fields.String):
    """Human-readable text: stripped, without control characters."""

    default_error_messages = {
        "control": "Must not contain control characters.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
            raise self.make_error("control")
        return value
