"""Field types used by several schemas."""

import unicodedata

from marshmallow import fields, validate

from travel_common.ids import ID_PATTERN, is_id

# What ``str.strip()`` removes, and what a name must not contain.
_SPACE = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f"
    r"\u205f\u3000"
)
_CONTROL = r"\x00-\x1f\x7f-\x9f\ud800-\udfff"


def name_pattern(max_length: int) -> str:
    """The raw strings that ``Name`` accepts, as a regular expression: optional
    surrounding space, then 1 to ``max_length`` characters without control
    characters that neither start nor end with space."""
    edge, inner = "[^%s%s]" % (_CONTROL, _SPACE), "[^%s]" % _CONTROL
    return "^[%s]*%s(?:%s{0,%d}%s)?[%s]*$" % (
        _SPACE, edge, inner, max_length - 2, edge, _SPACE
    )


class RecordId(fields.String):
    """A record id: 32 lowercase hex characters."""

    default_error_messages = {"invalid_id": "Not a valid id."}

    def __init__(self, **kwargs):
        pattern = "^%s$" % ID_PATTERN
        kwargs["metadata"] = {"pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_id(value):
            raise self.make_error("invalid_id")
        return value


class Name(fields.String):
    """Human-readable text: stripped, without control characters, then 1 to
    ``max_length`` characters long.

    The length is checked here, after stripping, rather than by a ``Length``
    validator, which the OpenAPI document would show as a limit on the raw
    string; the document shows ``name_pattern`` instead, the exact rule.
    """

    default_error_messages = {
        "control": "Must not contain control characters.",
    }

    def __init__(self, max_length: int = 100, **kwargs):
        self.length = validate.Length(min=1, max=max_length)
        kwargs["metadata"] = {
            "pattern": name_pattern(max_length), **kwargs.get("metadata", {})
        }
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in value):
            raise self.make_error("control")
        return self.length(value)
