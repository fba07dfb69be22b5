"""What the API accepts and returns for items.

Why so strict: every bound here is a 500 prevented. Integers stay inside the database's INTEGER
range, strings inside the column sizes and free of NUL (PostgreSQL rejects it), unknown fields and
coercions ("5" or true for 5) are refused, and the OpenAPI document states each rule for clients.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

MAX_INT32 = 2_147_483_647
NO_NUL = r"^[^\u0000]*$"

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NO_NUL)]
Description = Annotated[str, StringConstraints(max_length=500, pattern=NO_NUL)]


def _json_number(value: object) -> object:
    # JSON Schema counts 5.0 as an integer but not "5" or true; pydantic's lax mode takes all three.
    if isinstance(value, str | bool):
        raise ValueError("Input should be a JSON number")  # pydantic reports ValueError as a 422
    return value


Cents = Annotated[int, Field(ge=0, le=MAX_INT32), BeforeValidator(_json_number)]


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything the service stores is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class ItemIn(BaseModel):
    """A new item, or the full replacement of one (PUT)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description | None = None
    price_cents: Cents
    quantity: Cents = 0


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    price_cents: int
    quantity: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ItemPage(BaseModel):
    items: list[ItemOut]
    total: int
    limit: int
    offset: int


class ItemSort(StrEnum):
    """Allowed sort keys ('-' for descending): an allow-list, never a column name from input."""

    NAME = "name"
    NAME_DESC = "-name"
    PRICE = "price_cents"
    PRICE_DESC = "-price_cents"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"
