"""Interrupted runs, as with the Pulumi CLI: Ctrl-C cancels gracefully, a second one terminates,
and the state is checkpointed after every completed step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.engine import deploy
from tests.engine.api import REPO_ROOT
from tests.engine_tests.labkit import PROGRAMS, Sshd, command_config, wait_for

pytestmark = pytest.mark.lab
PROGRAM = PROGRAMS / "commands"


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def saved_names(state: Path) -> set[str]:
    return {r["name"] for r in json.loads(state.read_text())["resources"]}


def start_cli(
    sshd: Sshd, tmp_path: Path, commands: list[dict[str, object]]
) -> subprocess.Popen[str]:
    """`python -m tests.engine deploy` in a session of its own, like a command in a terminal."""
    config, _ = command_config(sshd, commands)
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(
        yaml.safe_dump({"mip-federation:privateKey": config.pop("mip-federation:privateKey")})
    )
    stack_file = tmp_path / "Pulumi.test.yaml"
    stack_file.write_text(yaml.safe_dump({"config": config}))
    args = ["deploy", str(stack_file), "--secrets", str(secrets)]
    args += ["--state", str(tmp_path / "state.json"), "--program-dir", str(PROGRAM)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_ctrl_c_finishes_the_steps_in_flight_and_starts_no_other(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    log, started = remote_dir / "log", remote_dir / "started"
    commands: list[dict[str, object]] = [
        {"name": "quick", "create": f"echo quick >> {log}"},
        {"name": "slow", "create": f"touch {started}; sleep 1.5; echo slow >> {log}"},
        {"name": "after", "create": f"echo after >> {log}", "dependsOn": ["slow"]},
    ]
    cli = start_cli(sshd, tmp_path, commands)
    wait_for(started.exists, 30, "the slow step")
    os.killpg(cli.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
    stdout, stderr = cli.communicate(timeout=60)
    assert cli.returncode == 1, stderr
    assert "^C received; cancelling" in stderr
    assert "error: mip-federation-test: update canceled" in stderr
    assert "Traceback" not in stderr
    assert json.loads(stdout) == {}, "a cancelled run reports no new outputs"
    # The step in flight completed and was recorded; its dependent never started.
    assert sorted(lines(log)) == ["quick", "slow"]
    state = tmp_path / "state.json"
    assert saved_names(state) == {"quick", "slow"}
    assert state.stat().st_mode & 0o777 == 0o600

    config, secret_keys = command_config(sshd, commands)
    again = deploy(PROGRAM, "test", config, secret_keys, state)
    assert again.ok, again.errors
    assert {o["name"]: o["op"] for o in again.operations} == {
        "quick": "same",
        "slow": "same",
        "after": "create",
    }


def test_second_ctrl_c_terminates_and_the_checkpoint_keeps_finished_steps(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    started = remote_dir / "started"
    commands: list[dict[str, object]] = [
        {"name": "first", "create": "echo first"},
        {"name": "stuck", "create": f"touch {started}; sleep 20", "dependsOn": ["first"]},
    ]
    cli = start_cli(sshd, tmp_path, commands)
    wait_for(started.exists, 30, "the stuck step")
    t0 = time.monotonic()
    os.killpg(cli.pid, signal.SIGINT)
    time.sleep(0.5)
    os.killpg(cli.pid, signal.SIGINT)
    _, stderr = cli.communicate(timeout=30)
    assert time.monotonic() - t0 < 10, "the second ^C does not wait for the step in flight"
    assert cli.returncode == 1
    assert "^C received; terminating" in stderr
    assert "engine worker exited with status 130" in stderr
    # Nothing was saved at the end: what is there is the checkpoint written after `first`.
    state = tmp_path / "state.json"
    assert saved_names(state) == {"first"}
    assert state.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".state.json.")] == []


def test_a_worker_killed_by_the_timeout_keeps_its_checkpoint(sshd: Sshd, tmp_path: Path) -> None:
    commands: list[dict[str, object]] = [
        {"name": "first", "create": "echo first", "stdin": "s3cret", "secretStdin": True},
        {"name": "stuck", "create": "sleep 20", "dependsOn": ["first"]},
    ]
    config, secret_keys = command_config(sshd, commands)
    state = tmp_path / "state.json"
    with pytest.raises(subprocess.TimeoutExpired):
        deploy(PROGRAM, "test", config, secret_keys, state, timeout=4)
    assert saved_names(state) == {"first"}
    assert "s3cret" not in state.read_text(), "checkpoints encrypt secrets too"


def test_keyboard_interrupt_in_an_api_caller_cancels_the_worker(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    log, started = remote_dir / "log", remote_dir / "started"
    commands: list[dict[str, object]] = [
        {"name": "slow", "create": f"touch {started}; sleep 1; echo slow >> {log}"},
        {"name": "after", "create": f"echo after >> {log}", "dependsOn": ["slow"]},
    ]
    config, secret_keys = command_config(sshd, commands)
    state = tmp_path / "state.json"

    def interrupt() -> None:
        wait_for(started.exists, 30, "the slow step")
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        deploy(PROGRAM, "test", config, secret_keys, state)
    # The interrupt was raised only once the worker had finished its step and saved the state.
    assert lines(log) == ["slow"]
    assert saved_names(state) == {"slow"}
