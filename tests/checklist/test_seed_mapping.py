"""Every checkbox and metric line of every seed checklist maps to exactly one checklist item."""

from collections import Counter
from pathlib import Path

from prodready.checklist import Checklist
from seed_checklists import citable_lines, seed_files


def seed_lines(seeds: Path) -> dict[str, bytes]:
    """{"003:14": line} for every line an item must cite."""
    return {
        f"{prefix}:{number}": line
        for prefix, (path, *_) in seed_files(seeds).items()
        for number, line in citable_lines(path).items()
    }


def in_seed_order(lines: set[str]) -> list[str]:
    return sorted(lines, key=lambda line: (line[:3], int(line[4:])))


def test_each_seed_prefix_names_one_file(seeds: Path) -> None:
    files = seed_files(seeds)
    assert files, f"no NNN_*.txt seed files in {seeds}"
    assert {prefix: paths for prefix, paths in files.items() if len(paths) > 1} == {}


def test_every_seed_line_maps_to_exactly_one_item(checklist: Checklist, seeds: Path) -> None:
    expected = seed_lines(seeds)
    cited = Counter(str(source) for item in checklist.items for source in item.sources)
    unmapped = in_seed_order(expected.keys() - cited.keys())
    assert unmapped == [], "seed lines no item cites:\n" + "\n".join(
        f"{line} {expected[line].decode('utf-8', 'replace').strip()}" for line in unmapped
    )
    assert [line for line, times in cited.items() if times > 1] == []


def test_every_source_is_a_checkbox_or_metric_line(checklist: Checklist, seeds: Path) -> None:
    expected = seed_lines(seeds)
    stray = {
        item.id: [str(source) for source in item.sources if str(source) not in expected]
        for item in checklist.items
    }
    assert {item_id: lines for item_id, lines in stray.items() if lines} == {}
