"""`make sbom`: a CycloneDX SBOM of what the service runs with, in build/sbom.cdx.json.

The packages are uv.lock's runtime ones for the chosen extras (the arguments: `--extra NAME`
each, as the Makefile passes them), without the dev group: what the image installs. cyclonedx-py
writes the SBOM from that export; this gate then validates it against the CycloneDX schema and
checks it lists exactly the exported packages, failing with one line otherwise.
"""

import json
import subprocess
import sys
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from ci import locked

BUILD = Path("build")
SBOM = BUILD / "sbom.cdx.json"
SPEC_VERSION = "1.6"


def problems(bom_text: str, pins: list[locked.Pinned]) -> list[str]:
    """What is wrong with an SBOM meant to list `pins`: schema errors, missing or extra packages."""
    error = JsonStrictValidator(SchemaVersion.from_version(SPEC_VERSION)).validate_str(bom_text)
    if error is not None:
        return [f"not a valid CycloneDX {SPEC_VERSION} document: {str(error)[:300]}"]
    components = json.loads(bom_text).get("components", [])
    listed = {(locked.normalise(item["name"]), item.get("version", "")) for item in components}
    expected = {(pin.name, pin.version) for pin in pins}
    found = []
    if missing := sorted(expected - listed):
        found.append("missing " + ", ".join(f"{name} {version}" for name, version in missing))
    if extra := sorted(listed - expected):
        found.append("not locked " + ", ".join(f"{name} {version}" for name, version in extra))
    if not expected:
        found.append("uv export listed no package")
    return found


def main(extras: list[str]) -> int:
    try:
        exported = locked.export("--no-dev", *extras)
        pins = locked.parse(exported)
    except locked.ExportError as error:
        print(f"sbom FAILED: {error}", file=sys.stderr)
        return 1
    BUILD.mkdir(exist_ok=True)
    requirements = BUILD / "sbom-requirements.txt"
    requirements.write_text(exported)
    SBOM.unlink(missing_ok=True)
    # A requirements file has no dependency graph, which cyclonedx-py warns about on every run:
    # a known property of this input, not news. --output-reproducible: no timestamp or random
    # serial number, so the same lock gives the same file.
    command = [
        *(sys.executable, "-W", "ignore:The Component this BOM is describing", "-m"),
        *("cyclonedx_py", "requirements", "--pyproject", "pyproject.toml"),
        *("--spec-version", SPEC_VERSION, "--output-reproducible", "--output-format", "JSON"),
        "--no-validate",  # validated below, once: the schema check takes seconds
        *("--output-file", str(SBOM), str(requirements)),
    ]
    result = subprocess.run(command, check=False)  # noqa: S603 (this interpreter, fixed arguments)
    if result.returncode != 0 or not SBOM.exists():
        print(f"sbom FAILED: cyclonedx-py exited {result.returncode}", file=sys.stderr)
        return 1
    if found := problems(SBOM.read_text(), pins):
        print(f"sbom FAILED: {SBOM}: " + "; ".join(found), file=sys.stderr)
        return 1
    chosen = " ".join(extras) or "no extras"
    print(
        f"sbom: {SBOM} lists the {len(pins)} runtime packages uv.lock pins ({chosen}), "
        f"valid CycloneDX {SPEC_VERSION}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
