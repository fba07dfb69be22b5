"""The `--json` output of every command: one object whose schema_version scripts can check.

Bump JSON_SCHEMA_VERSION when a field is removed or changes meaning; adding a field keeps it.
"""

import json
from typing import Any

JSON_SCHEMA_VERSION = 1


def json_document(**fields: Any) -> str:
    """`{"schema_version": 1, **fields}` as indented JSON (values that JSON lacks as text)."""
    return json.dumps(
        {"schema_version": JSON_SCHEMA_VERSION, **fields},
        indent=2,
        ensure_ascii=False,
        default=str,
    )
