"""docker-compose.yml and the README's systemd unit run ``watch`` as a service that stops cleanly.

Read as data (no Docker needed): one image built once; the scheduled service is ``watch`` in
exec form behind an init, so SIGTERM reaches the process (no ``sh -c`` as PID 1); it restarts
unless stopped; its healthcheck fails when no poll succeeded for 10 minutes; no service started
by ``up`` only prints help. Where ``docker compose`` (or ``docker-compose``) exists, the file is also
validated by it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgar_ingest.cli import build_parser
from edgar_ingest.commands.watch import DEFAULT_HEALTH_MAX_AGE_S

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker-compose.yml"
IMAGE = "edgar-ingest:latest"
SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/env"}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE.read_text())
    found: dict[str, dict[str, Any]] = document["services"]
    return found


def dockerfile_instruction(name: str) -> str:
    lines = [line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith(name + " ")]
    assert len(lines) == 1, f"one {name} in the Dockerfile"
    return lines[0][len(name) + 1 :].strip()


def ours(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if s.get("image") == IMAGE or "build" in s}


def test_one_image_is_built_once_and_every_service_of_ours_uses_it(
    services: dict[str, dict[str, Any]],
) -> None:
    built = [name for name, s in services.items() if "build" in s]

    assert len(built) == 1
    assert all(s.get("image") == IMAGE for s in ours(services).values())


def test_the_scheduled_service_runs_watch_in_exec_form_behind_an_init(
    services: dict[str, dict[str, Any]],
) -> None:
    entrypoint = json.loads(dockerfile_instruction("ENTRYPOINT"))  # JSON: exec form, no shell
    watch = [s for s in ours(services).values() if s.get("command", [None])[0] == "watch"]

    assert entrypoint == ["edgar-ingest"]
    assert len(watch) == 1
    service = watch[0]
    assert isinstance(service["command"], list), "a string command would run through a shell"
    assert "entrypoint" not in service
    assert service["init"] is True
    assert service.get("stop_signal", "SIGTERM") == "SIGTERM"
    build_parser().parse_args(service["command"])  # a real command line of the tool


def test_no_service_runs_under_a_shell(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key in ("entrypoint", "command"):
            value = service.get(key)
            if value is None:
                continue
            assert isinstance(value, list), f"{name}.{key} must be exec form"
            assert value[0] not in SHELLS, f"{name}.{key} runs a shell as PID 1"


def test_the_watcher_restarts_unless_stopped_and_its_comment_says_what_the_exit_codes_mean(
    services: dict[str, dict[str, Any]],
) -> None:
    (_name, service), *_ = [(n, s) for n, s in ours(services).items() if s["command"][0] == "watch"]
    comments = "\n".join(line for line in COMPOSE.read_text().splitlines() if line.lstrip().startswith("#"))

    assert service["restart"] == "unless-stopped"
    assert f"restart: {service['restart']}" in comments
    assert "exit 2" in comments
    assert "on-failure" not in comments  # the policy the old comment described


def test_the_healthcheck_fails_after_10_minutes_without_a_successful_poll(
    services: dict[str, dict[str, Any]],
) -> None:
    service = next(s for s in ours(services).values() if s["command"][0] == "watch")
    test = service["healthcheck"]["test"]

    assert test[:2] == ["CMD", "edgar-ingest"]  # exec form: no shell needed in the image
    args = build_parser().parse_args(test[2:])
    assert args.handler.__name__ == "cmd_healthcheck"
    assert args.max_age <= 600
    assert DEFAULT_HEALTH_MAX_AGE_S == 600
    assert service["healthcheck"]["retries"] == 1


def test_up_with_any_profile_starts_no_service_that_only_prints_help(
    services: dict[str, dict[str, Any]],
) -> None:
    default_command = json.loads(dockerfile_instruction("CMD"))

    assert default_command == ["--help"]
    for name, service in ours(services).items():
        command = service.get("command")
        assert command, f"{name} would run the image's default command, --help"
        assert "--help" not in command


def test_the_readme_shows_the_compose_service_and_a_systemd_unit_for_watch() -> None:
    readme = (REPO / "README.md").read_text()
    units = [block for block in re.findall(r"```ini\n(.*?)```", readme, re.DOTALL) if " watch" in block]

    assert "docker compose --profile watch up -d" in readme
    assert len(units) == 1
    unit = units[0]
    assert re.search(r"^Type=simple$", unit, re.MULTILINE)
    assert re.search(r"^Restart=on-failure$", unit, re.MULTILINE)
    assert re.search(r"^ExecStart=\S*edgar-ingest watch", unit, re.MULTILINE)


def test_docker_compose_accepts_the_file() -> None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        command = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose"]
    else:
        pytest.skip("neither docker compose nor docker-compose is installed")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE), "--profile", "watch", "config", "-q"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "EDGAR_INGEST_USER_AGENT": "tests tests@example.com"},
    )

    assert result.returncode == 0, result.stderr
