"""Query strings read exactly as the OpenAPI document describes them.

Why: by default a repeated parameter (`?limit=1&limit=5`) silently keeps the last value and
`?limit=1.0` passes as an integer, so a client's mistake is answered as if it were a valid request.
Here both are a 422 problem: one value per parameter, integers written as integers.
"""

import re
from collections import Counter

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator

_INTEGER = re.compile(r"[+-]?[0-9]+")


def _integer_text(value: object) -> object:
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise ValueError("Input should be an integer")
    return value


# Goes last in `Annotated[int, Query(ge=..), INTEGER_ONLY]`: placed before the bounds it would hide
# them from the OpenAPI document.
INTEGER_ONLY = BeforeValidator(_integer_text)


async def reject_repeated_parameters(request: Request) -> None:
    """A router dependency; routes that take a list from the query string must not use it."""
    # Counted in one pass: `names.count(name)` for each name was quadratic, and 13,000 parameters
    # held the event loop for seconds (security/request_limits.py also caps their number).
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Parameter must be given once", "type": "repeated"}
                for name in repeated
            ]
        )
