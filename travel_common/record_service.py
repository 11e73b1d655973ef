"""The RPCs every record service answers alike: ``get``, ``list`` and
``health``.

A service subclasses ``RecordService``, names its record's ``schema`` and its
list query's ``page_query``, and provides its ``Records`` repository as the
``records`` dependency.  ``load_or_invalid`` loads an RPC's arguments.
"""

from marshmallow import Schema, ValidationError

from travel_common.errors import Invalid
from travel_common.rpc_entrypoint import rpc


def load_or_invalid(schema, data: dict) -> dict:
    """``schema.load(data)``, with field errors raised as the wire type ``Invalid``."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Invalid(error.messages) from None


class RecordService:
    schema: Schema  # dumps a record
    page_query: Schema  # loads the list query

    @rpc
    def get(self, record_id):
        return self.schema.dump(self.records.get(record_id))

    @rpc
    def list(self, limit=20, cursor=None):
        query = load_or_invalid(self.page_query, {"limit": limit, "cursor": cursor})
        return self.dumped(self.records.page(query["limit"], query["cursor"]))

    @rpc
    def health(self):
        """Answers while this instance can reach Redis."""
        return {"redis": self.records.ping()}

    def dumped(self, page: dict) -> dict:
        """A page of records, its items as the schema dumps them."""
        page["items"] = self.schema.dump(page["items"], many=True)
        return page
