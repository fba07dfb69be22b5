"""Request ids: keep a well-formed incoming X-Request-ID (from a gateway or caller), else make one.

Why: one id in the response header, the access log, every application log line and every error
document lets a user's bug report be matched to the exact request. Incoming ids are checked because
they end up in logs: an unbounded or binary value would let a caller forge or bloat log lines.
"""

import os
import re

HEADER = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == HEADER and _VALID_ID.fullmatch(value):
            return value.decode("ascii")
    # 128 random bits as 32 hex digits, like uuid4().hex, at a quarter of its cost.
    return os.urandom(16).hex()
