"""README's "A first tour, offline" runs as printed, from a clone with nothing beside it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def tour() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## A first tour, offline", 1)[1].split("\n## ", 1)[0]
    return section


def tour_commands() -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", tour(), re.S)
    assert block is not None
    return [
        shlex.split(line, comments=True)
        for line in block.group(1).splitlines()
        if line.startswith("edgar-ingest ")
    ]


def test_the_tour_names_no_file_outside_the_clone() -> None:
    commands = tour_commands()
    assert len(commands) >= 3
    paths = [arg for command in commands for arg in command if "/" in arg]
    assert paths, "the tour reads the project's fixtures"
    assert all(not arg.startswith(("..", "/")) and (REPO_ROOT / arg).exists() for arg in paths), paths


def test_the_tour_runs_and_prints_the_history_it_shows(tmp_path: Path) -> None:
    # A working directory holding only the clone's tests/ folder: edgar_ingest.db lands here.
    (tmp_path / "tests").symlink_to(REPO_ROOT / "tests")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    outputs = []
    for command in tour_commands():
        result = subprocess.run(
            [sys.executable, "-m", "edgar_ingest", *command[1:]],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert result.returncode == 0, (command, result.stderr)
        outputs.append(result.stdout)

    shown = re.search(r"```\n(Offering .*?)```", tour(), re.S)
    assert shown is not None
    printed = outputs[-1].splitlines()
    for shown_line, printed_line in zip(shown.group(1).splitlines(), printed, strict=True):
        assert printed_line.startswith(shown_line.removesuffix("...").rstrip()), (shown_line, printed_line)
