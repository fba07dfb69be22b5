"""The container image and the local compose stack, for every option set.

Statically, from the rendered files: hadolint and checkov find nothing in the Dockerfile, its
final stage runs unprivileged with a health check and an exec-form uvicorn, ships no build
tooling, and .dockerignore lets in exactly what it copies; compose.yaml follows the compose-spec
schema and wires the services the options call for. For real (marked `container`): the default
option set's image is built with podman, migrated, served, probed and stopped with SIGTERM under
the restrictions the Kubernetes pods run with.
"""

import json
import re
import shlex
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .conftest import OPTION_SETS, render
from .container_tools import (
    BASE_IMAGE,
    BASE_IMAGE_PYTHON,
    Podman,
    Stage,
    compose_schema_errors,
    ensure_base_image,
    exec_form,
    hadolint,
    parse_dockerfile,
    require_podman,
    run_checkov_on_dockerfile,
    session_podman,
)
from .environment import free_port
from .matrix import default_answers

# The uid:gid the manifests in k8s/ run the pods as (runAsUser, runAsGroup, fsGroup).
SERVICE_UID = 10001
# Where the SQLite option keeps its database in a container (k8s/ mounts a volume there too).
SQLITE_DIRECTORY = "/var/lib/service"
SQLITE_URL = f"sqlite+aiosqlite:///{SQLITE_DIRECTORY}/service.db"
# The only checkov check skipped inline, and why: a base image chosen by a build argument.
ALLOWED_CHECKOV_SKIPS = {"CKV_DOCKER_7"}
# The final image minus its base: the virtualenv (dependencies and their bytecode) and the
# migrations. A compiler, a second interpreter or a download cache in the runtime stage breaks it.
IMAGE_SIZE_BUDGET = 100 * 10**6
START_TIMEOUT = 60.0
GRACEFUL_SHUTDOWN_SECONDS = 20  # uvicorn's --timeout-graceful-shutdown in the image's CMD
STOP_GRACE_SECONDS = 30  # what `podman stop --time` gives it, as the pods' grace period does
ADMIN = "admin@example.com"
PASSWORD = "a container's first operator, for this test only"  # noqa: S105 # pragma: allowlist secret

# ---- reading the rendered files ----


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def stages_of(project: Path) -> list[Stage]:
    return parse_dockerfile((project / "Dockerfile").read_text())[1]


def run_target_flags(project: Path) -> list[str]:
    """The uvicorn options of the Makefile's `run` recipe (its SERVE), without its host and port."""
    lines = (project / "Makefile").read_text().splitlines()
    assert "\t$(RUN) python $(SERVE) --host $(HOST) --port $(PORT)" in lines
    serve = next(line for line in lines if line.startswith("SERVE := "))
    return shlex.split(serve.split(":=", 1)[1])[3:]  # after `-m`, the package and the app


def compose_of(project: Path) -> dict[str, Any]:
    # PyYAML resolves the `<<: *service` merge keys, as compose does.
    compose: dict[str, Any] = yaml.safe_load((project / "compose.yaml").read_text())
    return compose


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment is written as a mapping"
    return {key: str(value) for key, value in environment.items()}


# ---- the Dockerfile ----


def test_hadolint_finds_nothing(rendered: Path) -> None:
    result = hadolint(rendered / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_checkov_finds_nothing_in_the_dockerfile(rendered: Path) -> None:
    report = run_checkov_on_dockerfile(rendered / "Dockerfile")
    assert report.parsing_errors == 0
    assert report.failed == 0, "\n".join(report.failures)
    assert report.passed >= 50
    assert set(report.skips) <= ALLOWED_CHECKOV_SKIPS
    for check_id, reason in report.skips.items():
        assert len(reason.strip()) >= 20, f"{check_id} is skipped without a written reason"
    print(f"checkov: {report.passed} passed, {report.failed} failed, {len(report.skips)} skipped")


def test_final_stage_runs_uvicorn_unprivileged_with_a_health_check(rendered: Path) -> None:
    global_instructions, stages = parse_dockerfile((rendered / "Dockerfile").read_text())
    answers = answers_of(rendered)
    assert [stage.name for stage in stages] == ["builder", "runtime"]
    base_argument = next(i for i in global_instructions if i.arguments.startswith("PYTHON_IMAGE="))
    assert base_argument.arguments == f"PYTHON_IMAGE=python:{answers['python_version']}-slim"
    assert {stage.base for stage in stages} == {"${PYTHON_IMAGE}"}
    final = stages[-1]

    user = final.all("USER")[-1].arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit(), f"USER {user}: numeric, so Kubernetes can check runAsNonRoot"
    assert gid.isdigit(), f"USER {user}: a numeric group too"
    assert int(uid) == int(gid) == SERVICE_UID >= 10000

    (health_check,) = final.all("HEALTHCHECK")
    options, _, probe = health_check.arguments.partition("CMD ")
    assert re.search(r"--start-period=\d+s", options)
    probe_argv = exec_form(probe)
    assert probe_argv is not None, "HEALTHCHECK CMD in exec form: no shell in the image needed"
    assert probe_argv[0] == "python"
    assert "http://127.0.0.1:8000/health/live" in probe_argv[-1]

    assert final.all("ENTRYPOINT") == []
    (command,) = final.all("CMD")
    argv = exec_form(command.arguments)
    assert argv is not None, "CMD in exec form: uvicorn is PID 1 and receives SIGTERM itself"
    assert argv[:2] == ["uvicorn", f"{answers['package_name']}.main:app"]
    host_and_port = ["--host", "0.0.0.0", "--port", "8000"]  # noqa: S104 (inside the container)
    assert argv[2:] == [*host_and_port, *run_target_flags(rendered)]
    assert argv[argv.index("--timeout-graceful-shutdown") + 1] == str(GRACEFUL_SHUTDOWN_SECONDS)
    assert [expose.arguments for expose in final.all("EXPOSE")] == ["8000"]

    environment = " ".join(instruction.arguments for instruction in final.all("ENV"))
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "PATH=/app/.venv/bin:$PATH"):
        assert setting in environment


def test_builder_installs_from_the_lock_in_two_layers(rendered: Path) -> None:
    builder = stages_of(rendered)[0]
    syncs = [run.arguments for run in builder.all("RUN") if "uv sync" in run.arguments]
    assert len(syncs) == 2
    dependencies, project = syncs
    needs_driver_extra = answers_of(rendered)["database"] == "postgresql"
    for sync in syncs:
        assert "--locked" in sync
        assert "--no-dev" in sync
        assert ("--extra postgresql" in sync) == needs_driver_extra
    assert "--no-install-project" in dependencies
    assert "--no-editable" in project
    copies = [copy.arguments for copy in builder.all("COPY")]
    assert copies[0] == "pyproject.toml uv.lock ./", "the dependency layer sees the lock alone"
    uv_install = next(run.arguments for run in builder.all("RUN") if "pip install" in run.arguments)
    assert re.search(r"\buv==\d+\.\d+\.\d+\b", uv_install), "uv is pinned"
    environment = " ".join(instruction.arguments for instruction in builder.all("ENV"))
    assert "UV_PYTHON_DOWNLOADS=never" in environment


def test_runtime_stage_ships_no_build_tooling(rendered: Path) -> None:
    final = stages_of(rendered)[-1]
    assert final.all("ADD") == []
    for instruction in final.all("RUN"):
        words = set(re.split(r"[\s;&|/=]+", instruction.arguments))
        assert not words & {"uv", "pip", "pip3", "apt-get", "apt", "gcc"}, instruction
    copies = [copy.arguments for copy in final.all("COPY")]
    assert copies == [
        "--from=builder /app/.venv /app/.venv",
        "alembic.ini log-config.json ./",
        "migrations ./migrations",
    ]


def test_dockerignore_admits_exactly_what_the_dockerfile_copies(rendered: Path) -> None:
    patterns = [
        line.strip()
        for line in (rendered / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "deny everything first: a new secret file never enters the context"
    admitted = {pattern.removeprefix("!") for pattern in patterns if pattern.startswith("!")}
    copied = {
        source
        for stage in stages_of(rendered)
        for copy in stage.all("COPY")
        if not copy.arguments.startswith("--from=")
        for source in copy.arguments.split()[:-1]
    }
    assert admitted == copied
    assert all((rendered / source).exists() for source in copied)
    assert {"**/__pycache__", "**/*.py[cod]"} <= set(patterns)


# ---- compose.yaml ----


def test_compose_file_follows_the_compose_spec(rendered: Path) -> None:
    assert compose_schema_errors(rendered / "compose.yaml") == ""


def test_compose_runs_migrations_then_the_service_on_loopback(rendered: Path) -> None:
    compose = compose_of(rendered)
    services = compose["services"]
    postgresql = answers_of(rendered)["database"] == "postgresql"
    expected = {"migrate", "api", "prometheus", "grafana"} | ({"postgres"} if postgresql else set())
    assert set(services) == expected

    migrate, api = services["migrate"], services["api"]
    assert migrate["build"] == api["build"] == "."
    assert migrate["image"] == api["image"]
    assert migrate["pull_policy"] == api["pull_policy"] == "build"
    assert migrate["command"] == ["migrate"]
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert environment_of(migrate) == environment_of(api)
    stop_grace = int(api["stop_grace_period"].removesuffix("s"))
    assert stop_grace > GRACEFUL_SHUTDOWN_SECONDS
    for service in (migrate, api):  # what the pods' securityContext enforces
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert service["tmpfs"] == ["/tmp"]

    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for dependency in service.get("depends_on", {}):
            assert dependency in services
        # The long-running services: their own health check, or the image's (the api's).
        if name not in ("migrate", "api"):
            assert service["healthcheck"]["test"][0] == "CMD", name
    assert api["ports"] == ["127.0.0.1:8000:8000"]

    named_volumes = {
        mount.split(":")[0]
        for service in services.values()
        for mount in service.get("volumes", [])
        if not mount.startswith(".")
    }
    assert named_volumes <= set(compose["volumes"])
    for service in services.values():
        for mount in service.get("volumes", []):
            if mount.startswith("./"):
                assert (rendered / mount.split(":")[0]).is_file(), mount


def test_compose_database_for_the_option(rendered: Path) -> None:
    answers = answers_of(rendered)
    services = compose_of(rendered)["services"]
    environment = environment_of(services["api"])
    assert "development" in environment["SECRET_KEY"], "labelled as a development-only value"
    if answers["database"] == "postgresql":
        postgres = services["postgres"]
        password = environment_of(postgres)["POSTGRES_PASSWORD"]
        assert "development" in password
        assert environment["DATABASE_URL"] == (
            f"postgresql+asyncpg://postgres:{password}@postgres:5432/{answers['package_name']}"
        )
        assert environment_of(postgres)["POSTGRES_DB"] == answers["package_name"]
        assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
        assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert "ports" not in postgres, "the host's own PostgreSQL keeps 5432"
    else:
        assert environment["DATABASE_URL"] == SQLITE_URL
        for name in ("migrate", "api"):
            assert f"database:{SQLITE_DIRECTORY}" in services[name]["volumes"]
        # A new named volume takes the owner of the image's directory: it must be the server's.
        final = stages_of(rendered)[-1]
        assert any(
            f"--owner={SERVICE_UID} --group={SERVICE_UID} {SQLITE_DIRECTORY}" in run.arguments
            for run in final.all("RUN")
        )


def test_prometheus_scrapes_the_service_and_grafana_reads_prometheus(rendered: Path) -> None:
    scrape = yaml.safe_load((rendered / "compose" / "prometheus.yaml").read_text())
    (job,) = scrape["scrape_configs"]
    # Named as the ServiceMonitor's jobLabel names it in a cluster: the rules select job="<slug>".
    recorded = yaml.safe_load((rendered / ".copier-answers.yml").read_text())
    assert job["job_name"] == recorded["project_slug"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"] == [{"targets": ["api:8000"]}]
    datasources = yaml.safe_load((rendered / "compose" / "grafana-datasources.yaml").read_text())
    (datasource,) = datasources["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert datasource["isDefault"] is True


def test_grafana_provisions_the_dashboard_k8s_ships(rendered: Path) -> None:
    grafana = compose_of(rendered)["services"]["grafana"]
    mounts = dict(mount.removesuffix(":ro").split(":") for mount in grafana["volumes"])
    providers = yaml.safe_load((rendered / "compose" / "grafana-dashboards.yaml").read_text())
    (provider,) = providers["providers"]
    assert mounts["./compose/grafana-dashboards.yaml"].startswith(
        "/etc/grafana/provisioning/dashboards/"
    )
    dashboard = mounts["./k8s/base/grafana-dashboard.json"]
    assert dashboard.rsplit("/", 1)[0] == provider["options"]["path"]
    assert provider["type"] == "file"


# ---- the image, built and run (podman) ----


def default_option_set() -> str:
    return next(name for name, answers in OPTION_SETS.items() if answers == default_answers())


@dataclass
class BuiltImage:
    podman: Podman
    tag: str
    project: Path
    build_seconds: float


@pytest.fixture(scope="session")
def built_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    """The default option set's image, built by podman in a store of this session's own.

    Only the default set is built: without a registry the one base image this machine can have
    is Debian bookworm's, whose python3 is 3.11 (the default python_version). The other sets'
    Dockerfiles differ only in the base image tag and the database extra, which the static tests
    above check for every set; `make install` proves their locked installs for every set.
    """
    require_podman()
    podman = session_podman(tmp_path_factory.mktemp("podman-storage"))
    tag = f"localhost/prodready-test-{uuid.uuid4().hex[:12]}:test"
    try:
        base_seconds = ensure_base_image(podman)
        answers = OPTION_SETS[default_option_set()]
        python_version = "import sys; print('%d.%d' % sys.version_info[:2])"
        base_python = podman.run("run", "--rm", BASE_IMAGE, "python", "-c", python_version)
        assert base_python.stdout.strip() == BASE_IMAGE_PYTHON == answers["python_version"]

        project = tmp_path_factory.mktemp("image") / "service"
        render(project, answers)
        started = time.monotonic()
        podman.build(project, tag, f"PYTHON_IMAGE={BASE_IMAGE}", "VERSION=0.1.0")
        image = BuiltImage(podman, tag, project, time.monotonic() - started)
        print(f"base image: {base_seconds:.0f} s (0: cached); build: {image.build_seconds:.0f} s")
        yield image
    finally:
        podman.run("rmi", "--force", tag, check=False)
        podman.unmount_store()
        podman.remove_state()


@pytest.mark.container
def test_image_configuration(built_image: BuiltImage) -> None:
    podman, tag = built_image.podman, built_image.tag
    (inspected,) = json.loads(podman.run("image", "inspect", tag).stdout)
    config = inspected["Config"]
    assert config["User"] == f"{SERVICE_UID}:{SERVICE_UID}"
    assert not config.get("Entrypoint")
    assert config["Cmd"][0] == "uvicorn"
    assert inspected["Healthcheck"]["Test"][0] == "CMD"  # kept by --format docker, exec form
    assert config["WorkingDir"] == "/app"
    labels = config["Labels"]
    answers = answers_of(built_image.project)
    assert labels["org.opencontainers.image.title"] == answers["project_name"]
    assert labels["org.opencontainers.image.source"] == answers["repository_url"]
    assert labels["org.opencontainers.image.version"] == "0.1.0"
    # Neither uv nor pip in the virtualenv or on PATH (the base image's system pip aside).
    probe = (
        "import json, os, shutil; "
        "print(json.dumps([os.listdir('/app/.venv/bin'), shutil.which('uv')]))"
    )
    scripts, uv = json.loads(podman.run("run", "--rm", tag, "python", "-c", probe).stdout)
    assert not {"uv", "pip", "pip3"} & set(scripts)
    assert uv is None


@pytest.mark.container
def test_image_migrates_serves_and_drains_on_sigterm_as_a_pod(built_image: BuiltImage) -> None:
    podman, tag = built_image.podman, built_image.tag
    name = f"prodready-test-{uuid.uuid4().hex[:12]}"
    volume = f"{name}-database"
    # As the pods run (k8s/): read-only root filesystem, every capability dropped, no privilege
    # escalation, and the SQLite database in a volume at SQLITE_DIRECTORY, which starts empty.
    as_a_pod = [
        *("--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges"),
        *("--volume", f"{volume}:{SQLITE_DIRECTORY}", "--env", f"DATABASE_URL={SQLITE_URL}"),
    ]
    podman.run("volume", "create", volume)
    try:
        # The migration Job's command, from the same image.
        podman.run("run", "--rm", *as_a_pod, tag, "migrate")
        # The first admin, as docs/access-control.md says (the default set's auth is local).
        package = yaml.safe_load((built_image.project / ".copier-answers.yml").read_text())[
            "package_name"
        ]
        manage = ["python", "-m", f"{package}.manage", "create-user", ADMIN, "--role", "admin"]
        podman.run("run", "--rm", "--interactive", *as_a_pod, tag, *manage, input=PASSWORD + "\n")
        port = free_port()
        podman.run(
            "run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8000", *as_a_pod, tag
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            _wait_until_live(podman, name, client)
            assert client.get("/health/ready").json() == {
                "status": "ok",
                "checks": {"database": "ok", "schema": "ok"},
            }
            signed_in = client.post(
                "/api/v1/auth/token", data={"username": ADMIN, "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            token = signed_in.json()["access_token"]
            created = client.post(
                "/api/v1/items",
                json={"name": "lamp", "price_cents": 2500},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 201, created.text  # the volume is writable by the uid

        assert podman.run("exec", name, "id", "-u").stdout.strip() == str(SERVICE_UID)
        assert podman.run("exec", name, "id", "-g").stdout.strip() == str(SERVICE_UID)
        # PID 1 is uvicorn's script run by the virtualenv's python: no shell, no uv in between.
        pid1 = podman.run("exec", name, "cat", "/proc/1/cmdline").stdout.split("\0")
        assert re.fullmatch(r"/app/\.venv/bin/python[0-9.]*", pid1[0]), pid1
        assert pid1[1] == "/app/.venv/bin/uvicorn", pid1

        health = podman.run("healthcheck", "run", name, check=False)
        assert health.returncode == 0, health.stdout + health.stderr

        started = time.monotonic()
        podman.run("stop", "--time", str(STOP_GRACE_SECONDS), name, timeout=STOP_GRACE_SECONDS + 30)
        stop_seconds = time.monotonic() - started
        (inspected,) = json.loads(podman.run("container", "inspect", name).stdout)
        # 0, or 143 if uvicorn re-raises SIGTERM; 137 would be the SIGKILL after the grace period.
        assert inspected["State"]["ExitCode"] in (0, 143)
        assert stop_seconds < STOP_GRACE_SECONDS
        print(f"podman stop: {stop_seconds:.1f} s, exit {inspected['State']['ExitCode']}")

        # Every line of the container's stdout is JSON, from start-up to the lifespan's end.
        logs = podman.run("logs", name).stdout
        events = [json.loads(line)["event"] for line in logs.splitlines() if line.strip()]
        assert events.index("startup") < events.index("Shutting down") < events.index("shutdown")
        assert "Application shutdown complete." in events
        assert "request" in events
    finally:
        podman.run("rm", "--force", name, check=False)
        podman.run("volume", "rm", "--force", volume, check=False)


@pytest.mark.container
def test_image_adds_little_to_its_base(built_image: BuiltImage) -> None:
    podman = built_image.podman
    added = podman.image_size(built_image.tag) - podman.image_size(BASE_IMAGE)
    print(
        f"image size over its base: {added / 10**6:.1f} MB ({added / 2**20:.1f} MiB), {added} bytes"
    )
    assert added < IMAGE_SIZE_BUDGET


def _wait_until_live(podman: Podman, name: str, client: httpx.Client) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if client.get("/health/live").status_code == 200:
                return
        except httpx.TransportError:
            pass
        state = podman.run("container", "inspect", "--format", "{{.State.Running}}", name)
        if state.stdout.strip() != "true":
            raise AssertionError(
                "the container exited:\n" + podman.run("logs", name).stdout[-6000:]
            )
        time.sleep(0.3)
    raise AssertionError(f"the container did not answer /health/live within {START_TIMEOUT}s")
