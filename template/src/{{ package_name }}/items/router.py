"""HTTP routes for items: parse and validate input, call the service, shape the output."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from ..auth.permissions import CanReadItems, CanWriteItems
from ..db import SessionDep
from ..openapi import problem_responses
from ..query import INTEGER_ONLY, check_query_parameters
from . import service
from .schemas import MAX_INT32, NO_NUL, ItemIn, ItemOut, ItemPage, ItemSort

router = APIRouter(
    prefix="/api/v1/items", tags=["items"], dependencies=[Depends(check_query_parameters)]
)

ItemId = Annotated[int, Path(ge=1, le=MAX_INT32), INTEGER_ONLY]
MAX_PAGE_SIZE = 100
MAX_OFFSET = 1_000_000
LOCATION = {"description": "The new item's path", "schema": {"type": "string"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={201: {"headers": {"Location": LOCATION}}, **problem_responses(409)},
)
async def create_item(
    data: ItemIn, session: SessionDep, response: Response, _: CanWriteItems
) -> ItemOut:
    item = await service.create_item(session, data=data)
    # A path, not an absolute URL: one built from the Host header would point where a client says.
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    return ItemOut.model_validate(item)


@router.get("")
async def list_items(
    session: SessionDep,
    _: CanReadItems,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE), INTEGER_ONLY] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET), INTEGER_ONLY] = 0,
    sort: ItemSort = ItemSort.CREATED_DESC,
    name_contains: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    min_price_cents: Annotated[int | None, Query(ge=0, le=MAX_INT32), INTEGER_ONLY] = None,
    max_price_cents: Annotated[int | None, Query(ge=0, le=MAX_INT32), INTEGER_ONLY] = None,
) -> ItemPage:
    items, total = await service.list_items(
        session,
        limit=limit,
        offset=offset,
        sort=sort,
        name_contains=name_contains,
        min_price_cents=min_price_cents,
        max_price_cents=max_price_cents,
    )
    return ItemPage(
        items=[ItemOut.model_validate(item) for item in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{item_id}", responses=problem_responses(404))
async def get_item(item_id: ItemId, session: SessionDep, _: CanReadItems) -> ItemOut:
    return ItemOut.model_validate(await service.get_item(session, item_id=item_id))


@router.put("/{item_id}", responses=problem_responses(404, 409))
async def replace_item(
    item_id: ItemId, data: ItemIn, session: SessionDep, _: CanWriteItems
) -> ItemOut:
    item = await service.replace_item(session, item_id=item_id, data=data)
    return ItemOut.model_validate(item)


@router.delete(
    "/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404)
)
async def delete_item(item_id: ItemId, session: SessionDep, _: CanWriteItems) -> None:
    await service.delete_item(session, item_id=item_id)
