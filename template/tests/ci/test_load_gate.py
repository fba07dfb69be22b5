"""`make load`'s gate on Locust's stats CSV, and its refusal of targets that are not loopback."""

from pathlib import Path

import pytest

from ci import load_gate

# The columns Locust 2.47 writes to <prefix>_stats.csv, percentiles included.
HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def stats_csv(tmp_path: Path, *, requests: int, failures: int, p95: str) -> Path:
    path = tmp_path / "load_stats.csv"
    rows = [
        HEADER,
        f"GET,/health/live,{requests},{failures},2,2.7,1.4,53.7,33.0,64.5,0.0,"
        f"2,3,3,3,3,{p95},5,6,54,54,54",
        f",Aggregated,{requests},{failures},2,2.7,1.4,53.7,33.0,64.5,0.0,"
        f"2,3,3,3,3,{p95},5,6,54,54,54",
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def gate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = load_gate.main(["report", str(path), "--p95-ms", "200", "--max-error-rate", "0.001"])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip()


def test_passes_within_the_slo_and_the_error_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1 failure in 1000 requests is exactly the 0.1 % budget: still within it.
    code, output = gate(stats_csv(tmp_path, requests=1000, failures=1, p95="200"), capsys)
    assert code == 0, output
    assert output.startswith("load: passed: 1000 requests, 1 failed")


@pytest.mark.parametrize(
    ("failures", "p95", "said"),
    [
        (0, "210", "p95 210 ms is above the SLO of 200 ms"),
        (2, "20", "error rate 0.200% is above 0.100%"),
        (2, "210", "p95 210 ms is above the SLO of 200 ms; error rate 0.200% is above 0.100%"),
    ],
    ids=["slow", "errors", "both"],
)
def test_fails_above_the_slo_or_the_error_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], failures: int, p95: str, said: str
) -> None:
    code, output = gate(stats_csv(tmp_path, requests=1000, failures=failures, p95=p95), capsys)
    assert code == 1
    assert output.startswith(f"load: FAILED: {said} (1000 requests, {failures} failed")
    assert len(output.splitlines()) == 1


@pytest.mark.parametrize("p95", ["N/A", "0"])
def test_fails_when_nothing_was_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], p95: str
) -> None:
    # What Locust writes when no request completed: a zero count and N/A percentiles.
    code, output = gate(stats_csv(tmp_path, requests=0, failures=0, p95=p95), capsys)
    assert code == 1
    assert output == "load: FAILED: no requests were made, so nothing was measured"


def test_fails_without_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = gate(tmp_path / "missing.csv", capsys)
    assert code == 1
    assert "no results at" in output
    (tmp_path / "empty.csv").write_text(HEADER + "\n")
    code, output = gate(tmp_path / "empty.csv", capsys)
    assert code == 1
    assert "has no Aggregated row" in output


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", "http://127.1.2.3"],
)
def test_accepts_a_loopback_target(url: str) -> None:
    assert load_gate.check_target(url, allow_remote=False) == f"load: target {url}"


@pytest.mark.parametrize(
    "url", ["https://api.example.com", "http://10.0.0.7:8000", "http://localhost.example.com"]
)
def test_refuses_a_remote_target_unless_allowed(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_gate.main(["target", url]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"load: refusing {url}: not a loopback address")
    assert "LOAD_ALLOW_REMOTE=1" in error
    assert load_gate.main(["target", url, "--allow-remote"]) == 0


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:8000", "http://"])
def test_refuses_what_is_not_an_http_url(url: str) -> None:
    with pytest.raises(load_gate.GateError, match="is not an http"):
        load_gate.check_target(url, allow_remote=True)
