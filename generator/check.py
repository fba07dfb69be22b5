"""`prodready check`: the template version a project is at, and the newest release there is."""

from dataclasses import dataclass
from pathlib import Path

from .errors import CliError
from .jsonout import json_document
from .recorded import newest_release, read_recorded_project, recorded_refs, release_version


@dataclass(frozen=True)
class VersionCheck:
    project: Path
    template: str
    current: str
    latest: str
    update_available: bool

    def as_json(self) -> str:
        return json_document(
            project=str(self.project),
            template=self.template,
            current_version=self.current,
            latest_version=self.latest,
            update_available=self.update_available,
        )

    def as_text(self) -> str:
        if not self.update_available:
            return (
                f"{self.project} is at template version {self.current}, the newest release "
                f"of {self.template}."
            )
        return (
            f"{self.project} is at template version {self.current}; {self.template} has a "
            f"newer release, {self.latest}: run `prodready update` to take it."
        )


def check_versions(project: Path) -> VersionCheck:
    """Compare the recorded `_commit` with the source's newest release tag (PEP 440, as copier)."""
    recorded = read_recorded_project(project)
    refs = recorded_refs(recorded, cwd=project)
    latest = newest_release(refs[0])
    if latest is None:
        raise CliError(f"the template {recorded.location} has no release tags to compare with")
    current_version = release_version(recorded.version)
    latest_version = release_version(latest)
    if current_version is None or latest_version is None:
        raise CliError(
            f"_commit in {recorded.answers_file} is {recorded.version!r}, which is not a "
            "release version, so it cannot be compared with the template's releases"
        )
    return VersionCheck(
        project=project,
        template=recorded.location,
        current=recorded.version,
        latest=latest,
        update_available=latest_version > current_version,
    )
