"""The packages uv.lock pins, as `uv export` writes them: what `make audit` and `make sbom` check.

`uv export --locked` reads the lock and refuses one that no longer matches pyproject.toml, so what
is checked is what `make install` and the image install. The service itself is left out
(--no-emit-project): it is not on any index, so no vulnerability service or SBOM consumer knows it.
"""

import os
import re
import subprocess
from dataclasses import dataclass

# One requirement as uv writes it without header and annotations:
#   name==version [; marker] \  then one `--hash=sha256:...` per line.
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"\s*(?:;\s*(?P<marker>[^\\]+?))?\s*(?P<hashes>(?:\s*--hash=\S+)*)\s*$"
)


class ExportError(Exception):
    """uv export failed or wrote something that is not one pinned, hashed package per entry."""


@dataclass(frozen=True)
class Pinned:
    name: str  # normalised as PEP 503 does: lower case, runs of -_. as one -
    version: str
    hashes: tuple[str, ...]
    marker: str  # "" when every platform installs it

    def requirement(self, *, marker: bool = True) -> str:
        """The pip requirement line: the pin, its marker if asked for, every hash."""
        suffix = f" ; {self.marker}" if marker and self.marker else ""
        return f"{self.name}=={self.version}{suffix} " + " ".join(
            f"--hash={value}" for value in self.hashes
        )


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def export(*selection: str) -> str:
    """`uv export` of the lock in requirements format; `selection` picks extras and groups."""
    # `uv run` names its own executable in UV, so a nested call needs no uv on PATH.
    command = [os.environ.get("UV", "uv"), "export", "--locked", "--no-emit-project"]
    command += ["--format", "requirements.txt", "--no-header", "--no-annotate", *selection]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (uv, fixed arguments)
    if result.returncode != 0:
        raise ExportError(f"`{' '.join(command)}` failed: {result.stderr.strip()}")
    return result.stdout


def parse(exported: str) -> list[Pinned]:
    """Every package of an export; an entry without an exact pin or a hash is an error."""
    entries = re.sub(r"\\\n", " ", exported).splitlines()
    pins = []
    for entry in entries:
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        match = _REQUIREMENT.match(entry.strip())
        if match is None or not match["hashes"]:
            raise ExportError(f"not a pinned, hashed requirement: {entry.strip()[:200]}")
        pins.append(
            Pinned(
                name=normalise(match["name"]),
                version=match["version"],
                hashes=tuple(value.removeprefix("--hash=") for value in match["hashes"].split()),
                marker=(match["marker"] or "").strip(),
            )
        )
    return pins
