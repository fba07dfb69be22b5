"""Query strings read exactly as the OpenAPI document describes them.

Why: by default a repeated parameter (`?limit=1&limit=5`) silently keeps the last value,
`?limit=1.0` passes as an integer and an unknown one (`?colour=red`, a typo of a filter) is ignored,
so a client's mistake is answered as if it were a valid request. Here all three are a 422 problem:
only the parameters the route declares, one value each, integers written as integers.
"""

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

_INTEGER = re.compile(r"[+-]?[0-9]+")


def _integer_text(value: object) -> object:
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise ValueError("Input should be an integer")
    return value


# Goes last in `Annotated[int, Query(ge=..), INTEGER_ONLY]`: placed before the bounds it would hide
# them from the OpenAPI document.
INTEGER_ONLY = BeforeValidator(_integer_text)


def _query_parameters(dependant: Dependant) -> frozenset[str]:
    own = frozenset(parameter.alias for parameter in dependant.query_params)
    return own.union(*(_query_parameters(child) for child in dependant.dependencies))


# By endpoint: the routes themselves are not hashable, and an endpoint's parameters never change.
_DECLARED: dict[Callable[..., Any], frozenset[str]] = {}


def _declared(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares (its own and its dependencies'), read once."""
    if route.endpoint not in _DECLARED:
        _DECLARED[route.endpoint] = _query_parameters(route.dependant)
    return _DECLARED[route.endpoint]


async def check_query_parameters(request: Request) -> None:
    """A router dependency: unknown and repeated parameters are a 422 (routes that take a list
    from the query string must not use it)."""
    # Counted in one pass: `names.count(name)` for each name was quadratic, and 13,000 parameters
    # held the event loop for seconds (security/request_limits.py also caps their number).
    counts = Counter(name for name, _ in request.query_params.multi_items())
    declared = _declared(request.scope["route"])
    errors = [
        {"loc": ("query", name), "msg": "Unknown parameter", "type": "unknown"}
        for name in sorted(counts.keys() - declared)
    ] + [
        {"loc": ("query", name), "msg": "Parameter must be given once", "type": "repeated"}
        for name, count in sorted(counts.items())
        if count > 1 and name in declared
    ]
    if errors:
        raise RequestValidationError(errors)
