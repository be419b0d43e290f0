"""Remote commands applied for real over SSH: lifecycle, errors, secrets, parallelism."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.engine import DeployResult, deploy, destroy
from tests.engine_tests.labkit import PROGRAMS, Sshd, command_config

pytestmark = pytest.mark.lab
PROGRAM = PROGRAMS / "commands"


def up(sshd: Sshd, state: Path, commands: list[dict[str, object]], **conn: object) -> DeployResult:
    config, secret_keys = command_config(sshd, commands, **conn)
    return deploy(PROGRAM, "test", config, secret_keys, state)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_create_once_then_same_then_update(sshd: Sshd, remote_dir: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    log = remote_dir / "log"
    cmd = {
        "name": "hello",
        "create": f"echo create >> {log}; echo hello-out; echo hello-err >&2",
        "update": f"echo update >> {log}; echo updated; echo prev=$PULUMI_COMMAND_STDOUT >> {log}",
        "delete": f"echo delete >> {log}",
    }
    first = up(sshd, state, [cmd])
    assert first.ok, first.errors
    assert first.outputs == {"hello": "hello-out"}
    assert [o["op"] for o in first.operations] == ["create"]
    assert lines(log) == ["create"]

    second = up(sshd, state, [cmd])
    assert second.ok, second.errors
    assert [o["op"] for o in second.operations] == ["same"]
    assert second.outputs == {"hello": "hello-out"}
    assert lines(log) == ["create"], "an unchanged resource must run nothing"

    changed = {**cmd, "update": cmd["update"] + " # v2"}
    third = up(sshd, state, [changed])
    assert third.ok, third.errors
    assert [o["op"] for o in third.operations] == ["update"]
    assert third.outputs == {"hello": "updated"}
    # sshd's AcceptEnv does not list PULUMI_COMMAND_STDOUT: like the real provider, the
    # previous output is offered, refused (a warning) and the command runs without it.
    assert lines(log) == ["create", "update", "prev="]

    gone = destroy("test", state)
    assert gone.ok, gone.errors
    assert lines(log)[-1] == "delete"
    assert json.loads(state.read_text())["resources"] == []


def test_update_without_update_text_runs_create_again(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    log = remote_dir / "log"
    cmd = {"name": "c", "create": f"echo run >> {log}", "environment": {}}
    assert up(sshd, state, [cmd]).ok
    result = up(sshd, state, [{**cmd, "create": f"echo run2 >> {log}"}])
    assert result.ok, result.errors
    assert [o["op"] for o in result.operations] == ["update"]
    assert lines(log) == ["run", "run2"]


def test_stdin_reaches_the_command_and_stays_secret(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    secret = "stdin-secret-7f3a9c"
    cmd = {
        "name": "reader",
        "create": f"cat > {remote_dir}/got; echo done",
        "stdin": secret,
        "secretStdin": True,
        "logging": "none",
    }
    result = up(sshd, state, [cmd])
    assert result.ok, result.errors
    assert (remote_dir / "got").read_text() == secret
    text = state.read_text()
    assert secret not in text
    assert "BEGIN OPENSSH " + "PRIVATE KEY" not in text and sshd.client_key.split()[4] not in text
    assert state.stat().st_mode & 0o777 == 0o600
    assert state.with_suffix(".key").stat().st_mode & 0o777 == 0o600
    # The secret is still there for the next run: redeploying is a no-op.
    again = up(sshd, state, [cmd])
    assert [o["op"] for o in again.operations] == ["same"]


def test_secret_outputs_are_redacted(sshd: Sshd, tmp_path: Path) -> None:
    cmd = {
        "name": "tok",
        "create": "printf 'token-%s' abc123",
        "secretOutputs": ["stdout"],
        "logging": "none",
    }
    state = tmp_path / "state.json"
    result = up(sshd, state, [cmd])
    assert result.ok, result.errors
    assert result.outputs == {"tok": "[secret]"}
    assert "token-abc123" not in state.read_text()


def test_triggers_replace_create_before_delete(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    log = remote_dir / "log"

    def spec(version: str, **extra: object) -> dict[str, object]:
        return {
            "name": "r",
            "create": f"echo create-{version} >> {log}",
            "delete": f"echo delete-{version} >> {log}",
            "triggers": [version],
            **extra,
        }

    assert up(sshd, state, [spec("1")]).ok
    result = up(sshd, state, [spec("2")])
    assert result.ok, result.errors
    assert [(o["op"], o["reason"]) for o in result.operations] == [
        ("replace", ""),
        ("delete", "replaced"),
    ]
    assert lines(log) == ["create-1", "create-2", "delete-1"]
    result = up(sshd, state, [spec("3", deleteBeforeReplace=True)])
    assert result.ok, result.errors
    assert lines(log)[-2:] == ["delete-2", "create-3"]


def test_connection_change_updates_in_place(sshd: Sshd, remote_dir: Path, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    log = remote_dir / "log"
    cmd = {"name": "c", "create": f"echo create >> {log}", "delete": f"echo delete >> {log}"}
    assert up(sshd, state, [cmd]).ok
    result = up(sshd, state, [cmd], per_dial_timeout=7)
    assert [o["op"] for o in result.operations] == ["update"]
    assert lines(log) == ["create", "create"]


def test_removed_resources_are_deleted_in_reverse_dependency_order(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    log = remote_dir / "log"

    def cmd(name: str, *deps: str) -> dict[str, object]:
        return {
            "name": name,
            "create": f"echo create-{name} >> {log}",
            "delete": f"sleep 0.3; echo delete-{name} >> {log}",
            "dependsOn": list(deps),
        }

    chain = [cmd("a"), cmd("b", "a"), cmd("c", "b"), cmd("d", "a")]
    assert up(sshd, state, chain).ok
    assert lines(log)[0] == "create-a"
    result = up(sshd, state, [cmd("a")])
    assert result.ok, result.errors
    deleted = [line for line in lines(log) if line.startswith("delete")]
    assert set(deleted) == {"delete-b", "delete-c", "delete-d"}
    assert deleted.index("delete-c") < deleted.index("delete-b")
    assert "b" not in result.outputs and "a" in result.outputs

    assert destroy("test", state).ok
    assert lines(log)[-1] == "delete-a"


def test_host_key_mismatch_is_refused_before_any_command(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    """pulumi-command provider/pkg/provider/remote/connection.go SSHConfig
    (ssh.FixedHostKey) and dialWithRetry: a mismatch is a dial error like any other, retried,
    with x/crypto/ssh's text (client.go fixedHostKey.check) and nothing added."""
    marker = remote_dir / "ran"
    cmd = {"name": "guarded", "create": f"touch {marker}"}
    result = up(
        sshd, tmp_path / "state.json", [cmd], host_key=sshd.other_host_key, dial_error_limit=1
    )
    assert not result.ok
    assert result.errors == [
        ("guarded", "after 1 failed attempts: ssh: handshake failed: ssh: host key mismatch")
    ]
    assert not marker.exists()


def test_failing_command_reports_like_the_provider(sshd: Sshd, tmp_path: Path) -> None:
    secret = "never-in-messages-42"
    cmd = {
        "name": "boom",
        "create": "echo out-line; echo err-line >&2; cat >/dev/null; exit 3",
        "stdin": secret,
        "secretStdin": True,
        "logging": "none",
    }
    state = tmp_path / "state.json"
    result = up(sshd, state, [cmd])
    assert not result.ok
    [(name, message)] = result.errors
    assert name == "boom"
    head, output = message.split(":\n", 1)
    assert head == (
        'Process exited with status 3: running "echo out-line; echo err-line >&2; '
        'cat >/dev/null; exit 3"'
    )
    # stdout and stderr interleave in arrival order, as in the provider's combined buffer.
    assert sorted(output.splitlines()) == ["err-line", "out-line"] and output.endswith("\n")
    assert all(secret not in message for _, message in result.errors)
    # A failed create leaves nothing in the state: the next run creates it again.
    assert json.loads(state.read_text())["resources"] == []


def test_failure_keeps_independent_work_and_stops_new_steps(
    sshd: Sshd, remote_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    log = remote_dir / "log"
    commands = [
        {"name": "slow", "create": f"sleep 1; echo slow >> {log}"},
        {"name": "bad", "create": "exit 1"},
        {"name": "after-bad", "create": f"echo after >> {log}", "dependsOn": ["bad"]},
    ]
    result = up(sshd, state, commands)
    assert not result.ok
    assert [name for name, _ in result.errors] == ["bad"]
    assert lines(log) == ["slow"], "in-flight independent steps complete; dependents never run"
    names = [r["name"] for r in json.loads(state.read_text())["resources"]]
    assert names == ["slow"]
    # Nothing was deleted for the resources the failed run did not reach.
    retry = up(sshd, state, [commands[0], {"name": "bad", "create": "true"}])
    assert retry.ok, retry.errors
    assert {o["name"]: o["op"] for o in retry.operations} == {"slow": "same", "bad": "create"}


def test_environment_needs_accept_env(sshd: Sshd, tmp_path: Path) -> None:
    ok = {"name": "env-ok", "create": "echo $ENGINE_OK_X", "environment": {"ENGINE_OK_X": "y"}}
    result = up(sshd, tmp_path / "a.json", [ok])
    assert result.ok, result.errors
    assert result.outputs == {"env-ok": "y"}
    refused = {"name": "env-no", "create": "echo $NOPE", "environment": {"NOPE": "y"}}
    result = up(sshd, tmp_path / "b.json", [refused])
    assert result.errors == [
        ("env-no", 'could not set environment variable "NOPE": ssh: setenv failed')
    ]


def test_components_are_recorded_without_steps(sshd: Sshd, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config, secret_keys = command_config(sshd, [{"name": "child", "parent": "grp"}])
    config["mip-federation:components"] = ["grp"]
    result = deploy(PROGRAM, "test", config, secret_keys, state)
    assert result.ok, result.errors
    resources = {r["name"]: r for r in json.loads(state.read_text())["resources"]}
    assert resources["grp"]["custom"] is False
    assert resources["child"]["parent"] == resources["grp"]["urn"]
    assert resources["child"]["urn"].endswith("::test:index:Group$command:remote:Command::child")
    assert destroy("test", state).ok


def test_independent_commands_run_in_parallel(sshd: Sshd, remote_dir: Path, tmp_path: Path) -> None:
    """Independent steps run in parallel, up to `--parallel` (here 20). Each command waits at a
    barrier until all 20 have started and fails otherwise, so the deploy only succeeds if every
    one of them was in flight at once; nothing is timed."""
    count = 20
    barrier = remote_dir / "barrier"
    barrier.mkdir()
    # `set -- dir/*` counts the arrivals without forking; at most 60 s of 0.5 s naps.
    wait = (
        f"n=0; set -- {barrier}/*; while [ $# -lt {count} ] && [ $n -lt 120 ]; do "
        f"sleep 0.5; n=$((n+1)); set -- {barrier}/*; done; [ $# -ge {count} ] || exit 7"
    )
    commands = [
        {"name": f"p{i}", "create": f"touch {barrier}/{i}; {wait}; echo {i}", "logging": "none"}
        for i in range(count)
    ]
    config, secret_keys = command_config(sshd, commands)
    started = time.monotonic()
    result = deploy(PROGRAM, "test", config, secret_keys, tmp_path / "state.json", parallel=count)
    print(f"{count} commands at a barrier: deploy took {time.monotonic() - started:.2f}s")
    assert result.ok, result.errors
    assert result.outputs == {f"p{i}": str(i) for i in range(count)}
