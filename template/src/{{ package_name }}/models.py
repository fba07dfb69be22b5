"""Every table of the service, imported in one place so Alembic's autogenerate sees them all."""

from .db import Base
from .items.models import Item

__all__ = ["Base", "Item"]
