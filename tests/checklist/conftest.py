"""The checkout's checklist.yml, read by the installed prodready, and the seeds behind it."""

import os
from pathlib import Path

import pytest
from prodready.checklist import Checklist, load_checklist

REPO = Path(__file__).resolve().parents[2]
CHECKLIST = REPO / "checklist.yml"
SEEDS = REPO.parent / "shared" / "seeds"


@pytest.fixture(autouse=True)
def _installed_module_is_current(installed_prodready: Path) -> None:
    """The module under test is the installed copy: stop with `pip install .` when it is stale."""


@pytest.fixture(scope="session")
def checklist() -> Checklist:
    return load_checklist(CHECKLIST)


@pytest.fixture(scope="session")
def seeds() -> Path:
    if not SEEDS.is_dir():
        reason = f"the seed checklists are not beside the repository (no {SEEDS})"
        if os.environ.get("PRODREADY_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason}; PRODREADY_REQUIRE_SERVICES=1 requires them", pytrace=False)
        pytest.skip(reason)
    return SEEDS
