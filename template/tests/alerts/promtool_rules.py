"""Check the Prometheus rules in k8s/ with promtool, and run their unit tests.

Why: an alert that never fires, or fires on no data, is found by a test here, not in an outage.
The rules live in PrometheusRule objects (k8s/base/*.yaml, k8s/components/*/*.yaml) that the
Prometheus Operator loads; promtool reads plain rule files. This script writes the `spec` groups
of every PrometheusRule into one plain `rules.yaml` and hands it to promtool:

    python tests/alerts/promtool_rules.py check      # `make alerts`: check rules + unit tests
    python tests/alerts/promtool_rules.py write OUT  # only write the rules file (for a Prometheus)

The unit tests are tests/alerts/*.yaml in promtool's format (`rule_files: [rules.yaml]`). One
addition: a `promql_expr_test` whose `expr` is `analysis:<metric>` tests the canary's query
instead, the `provider.prometheus.query` of that metric in
k8s/components/canary/analysis-template.yaml, with every `{{args.NAME}}` replaced from the test
file's top-level `analysis_args: {NAME: value}` (removed before promtool reads the file).

promtool is not a Python package: it ships with Prometheus (Debian: `apt-get install prometheus`).
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[2]
RULE_SOURCES = ("k8s/base/*.yaml", "k8s/components/*/*.yaml")
ANALYSIS_TEMPLATE = Path("k8s/components/canary/analysis-template.yaml")  # within the project
TESTS = Path(__file__).resolve().parent
RULES_FILE = "rules.yaml"
ANALYSIS_PREFIX = "analysis:"
ARGUMENT = re.compile(r"\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}")


class RuleError(Exception):
    """Something to report in one line, without a traceback."""


def rule_groups(project: Path = PROJECT) -> list[dict[str, Any]]:
    """Every rule group of every PrometheusRule under k8s/, in file order."""
    groups: list[dict[str, Any]] = []
    for pattern in RULE_SOURCES:
        for path in sorted(project.glob(pattern)):
            for document in yaml.safe_load_all(path.read_text()):
                if isinstance(document, dict) and document.get("kind") == "PrometheusRule":
                    groups.extend(document["spec"]["groups"])
    if not groups:
        raise RuleError(f"no PrometheusRule found in {', '.join(RULE_SOURCES)}")
    return groups


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings (the expressions) as `|` blocks, as they read in k8s/."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_str)


def dump(content: dict[str, Any]) -> str:
    return yaml.dump(content, Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True)


def write_rules(out: Path, project: Path = PROJECT) -> None:
    out.write_text(dump({"groups": rule_groups(project)}))


def analysis_queries(project: Path = PROJECT) -> dict[str, str]:
    """The canary analysis' Prometheus query of each metric, by metric name (none without it)."""
    template = project / ANALYSIS_TEMPLATE
    if not template.exists():
        return {}
    spec = yaml.safe_load(template.read_text())["spec"]
    return {
        metric["name"]: metric["provider"]["prometheus"]["query"]
        for metric in spec["metrics"]
        if "prometheus" in metric.get("provider", {})
    }


def resolve_analysis(test_file: Path, queries: dict[str, str]) -> dict[str, Any]:
    """The test file as promtool reads it: `analysis:<metric>` replaced by that metric's query."""
    content: dict[str, Any] = yaml.safe_load(test_file.read_text())
    arguments = {str(key): str(value) for key, value in content.pop("analysis_args", {}).items()}

    def argument(match: re.Match[str]) -> str:
        if match.group(1) not in arguments:
            raise RuleError(f"{test_file.name}: analysis_args has no {match.group(1)}")
        return arguments[match.group(1)]

    for test in content.get("tests", []):
        for expr_test in test.get("promql_expr_test", []):
            expr = str(expr_test["expr"])
            if not expr.startswith(ANALYSIS_PREFIX):
                continue
            metric = expr.removeprefix(ANALYSIS_PREFIX)
            if metric not in queries:
                raise RuleError(f"{test_file.name}: no metric {metric!r} in {ANALYSIS_TEMPLATE}")
            expr_test["expr"] = ARGUMENT.sub(argument, queries[metric])
    return content


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        raise RuleError(
            "promtool not found: it comes with Prometheus (Debian/Ubuntu: `apt-get install "
            "prometheus`; or the release tarball at https://prometheus.io/download/)"
        )
    return found


def check(project: Path = PROJECT, tests: Path = TESTS) -> int:
    """`promtool check rules`, then `promtool test rules` on every tests/alerts/*.yaml."""
    binary = promtool()
    test_files = sorted(tests.glob("*.yaml"))
    if not test_files:
        raise RuleError(f"no unit tests in {tests}")
    queries = analysis_queries(project)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        write_rules(work / RULES_FILE, project)
        copies = []
        for test_file in test_files:
            copy = work / test_file.name
            copy.write_text(dump(resolve_analysis(test_file, queries)))
            copies.append(copy.name)
        for command in ([binary, "check", "rules", RULES_FILE], [binary, "test", "rules", *copies]):
            # promtool resolves rule_files relative to the test file: both sit in `work`.
            result = subprocess.run(command, cwd=work, check=False)  # noqa: S603 (fixed arguments)
            if result.returncode != 0:
                return result.returncode
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="promtool check rules, then the unit tests in tests/alerts/")
    write = commands.add_parser("write", help="write the plain rules file only")
    write.add_argument("out", type=Path, help="where to write it (e.g. /tmp/rules.yaml)")
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            write_rules(args.out)
            return 0
        return check()
    except RuleError as error:
        print(f"promtool_rules: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
