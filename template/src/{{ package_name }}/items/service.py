"""Item operations: keyword-only functions over a session, free of HTTP concerns."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..problems import ConflictError, NotFoundError
from .models import Item
from .schemas import ItemIn, ItemSort

_SORT_COLUMNS = {
    ItemSort.NAME: Item.name,
    ItemSort.PRICE: Item.price_cents,
    ItemSort.CREATED: Item.created_at,
}


class ItemNotFoundError(NotFoundError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"Item {item_id} does not exist.")


class DuplicateItemNameError(ConflictError):
    def __init__(self, name: str) -> None:
        super().__init__(f"An item named {name!r} already exists.")


async def create_item(session: AsyncSession, *, data: ItemIn) -> Item:
    item = Item(**data.model_dump())
    session.add(item)
    await _commit_unique_name(session, data.name)
    await session.refresh(item)
    return item


async def get_item(session: AsyncSession, *, item_id: int) -> Item:
    item = await session.get(Item, item_id)
    if item is None:
        raise ItemNotFoundError(item_id)
    return item


async def list_items(
    session: AsyncSession,
    *,
    limit: int,
    offset: int,
    sort: ItemSort,
    name_contains: str | None = None,
    min_price_cents: int | None = None,
    max_price_cents: int | None = None,
) -> tuple[list[Item], int]:
    query = select(Item)
    if name_contains:
        query = query.where(Item.name.contains(name_contains, autoescape=True))
    if min_price_cents is not None:
        query = query.where(Item.price_cents >= min_price_cents)
    if max_price_cents is not None:
        query = query.where(Item.price_cents <= max_price_cents)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    column = _SORT_COLUMNS[ItemSort(sort.removeprefix("-"))]
    order = column.desc() if sort.startswith("-") else column.asc()
    # The id breaks ties so that pages never repeat or skip rows.
    page = await session.scalars(query.order_by(order, Item.id).limit(limit).offset(offset))
    return list(page), total or 0


async def replace_item(session: AsyncSession, *, item_id: int, data: ItemIn) -> Item:
    item = await get_item(session, item_id=item_id)
    for field, value in data.model_dump().items():
        setattr(item, field, value)
    await _commit_unique_name(session, data.name)
    await session.refresh(item)
    return item


async def delete_item(session: AsyncSession, *, item_id: int) -> None:
    item = await get_item(session, item_id=item_id)
    await session.delete(item)
    await session.commit()


async def _commit_unique_name(session: AsyncSession, name: str) -> None:
    # The unique constraint decides, not a prior SELECT: two concurrent requests cannot both win.
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise DuplicateItemNameError(name) from None
