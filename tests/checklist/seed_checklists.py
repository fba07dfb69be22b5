"""The seed lines an item must cite: every checkbox, and every `- **Metric**: value` line.

The seed files are UTF-8 that was mis-decoded in places (emoji mojibake), so they are split and
matched as bytes: line numbers and matches never depend on how, or whether, the text decodes.
"""

import codecs
import re
from pathlib import Path

SEED_FILE = re.compile(r"(?P<prefix>[0-9]{3})_.+\.txt")
CHECKBOX = re.compile(rb"\s*[-*+] \[[ xX]\]")
METRIC = re.compile(rb"\s*[-*+] \*\*[^*]+\*\*:")


def seed_files(directory: Path) -> dict[str, list[Path]]:
    """Seed files by their three-digit prefix (a list, so a reused prefix can be reported)."""
    files: dict[str, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        if match := SEED_FILE.fullmatch(path.name):
            files.setdefault(match["prefix"], []).append(path)
    return files


def citable_lines(path: Path) -> dict[int, bytes]:
    """{line number: line} for the lines of one seed file that an item must cite."""
    # bytes.splitlines splits on \n, \r\n and \r only, as editors count lines; str.splitlines
    # would also split on characters that mojibake can produce (\x85, \u2028).
    lines = path.read_bytes().removeprefix(codecs.BOM_UTF8).splitlines()
    return {
        number: line
        for number, line in enumerate(lines, 1)
        if CHECKBOX.match(line) or METRIC.match(line)
    }
