"""The `make sbom` gate (ci/sbom.py): a schema-valid CycloneDX document listing exactly the pins."""

import json
from typing import Any

from ci import locked
from ci.sbom import problems

PINS = locked.parse("aiosqlite==0.22.1 --hash=sha256:0123\nPyYAML==6.0.3 --hash=sha256:4567\n")


def bom(*components: tuple[str, str], **fields: Any) -> str:
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {"type": "library", "bom-ref": name, "name": name, "version": version}
            for name, version in components
        ],
        **fields,
    }
    return json.dumps(document)


def test_a_valid_sbom_of_every_pin_passes_and_names_are_compared_normalised() -> None:
    assert problems(bom(("aiosqlite", "0.22.1"), ("pyyaml", "6.0.3")), PINS) == []


def test_a_missing_and_an_unlocked_component_are_named() -> None:
    found = problems(bom(("aiosqlite", "0.22.1"), ("requests", "2.0")), PINS)
    assert found == ["missing pyyaml 6.0.3", "not locked requests 2.0"]


def test_a_document_outside_the_schema_fails() -> None:
    (found,) = problems(bom(("aiosqlite", "0.22.1"), ("pyyaml", "6.0.3"), bomFormat="SPDX"), PINS)
    assert found.startswith("not a valid CycloneDX 1.6 document")
