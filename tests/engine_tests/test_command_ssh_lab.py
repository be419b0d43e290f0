"""The remote Command handler against real OpenSSH servers: what pulumi-command does
with host-key pins, env requests, signals, the agent and delete's inputs."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.engine.providers.base import HandlerContext, ProviderError, ResourceView
from tests.engine.providers.command import RemoteCommandHandler
from tests.engine.state import ResourceState
from tests.engine_tests.labkit import SSHD, Sshd, free_port, keygen, wait_for

pytestmark = pytest.mark.lab
TYPE = "command:remote:Command"


@dataclass
class RsaSshd:
    port: int
    rsa_host_key: str
    ed25519_host_key: str
    client_key: str


@pytest.fixture(scope="module")
def rsa_sshd() -> Iterator[RsaSshd]:
    """An OpenSSH server (>= 8.8) with an RSA and an ed25519 host key, default algorithms, and
    `AcceptEnv PULUMI_COMMAND_STDOUT`."""
    if os.geteuid() != 0 or not Path(SSHD).exists():
        pytest.skip("needs root and openssh-server")
    root = Path(tempfile.mkdtemp(prefix="eng-rsa-sshd-"))
    try:
        _, rsa_pub = keygen(root / "host_rsa", "rsa")
        _, ed_pub = keygen(root / "host_ed25519")
        client_key, client_pub = keygen(root / "client")
        (root / "authorized_keys").write_text(client_pub + "\n")
        port = free_port()
        config = root / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {root / 'host_rsa'}",
                    f"HostKey {root / 'host_ed25519'}",
                    f"PidFile {root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {root / 'authorized_keys'}",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "AcceptEnv PULUMI_COMMAND_STDOUT",
                    "LogLevel ERROR",
                ]
            )
            + "\n"
        )
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
        try:
            wait_for(
                lambda: (
                    __import__("socket").create_connection(("127.0.0.1", port), 1).close() or True
                ),
                10,
                "sshd",
            )
            yield RsaSshd(
                port=port,
                rsa_host_key=" ".join(rsa_pub.split()[:2]),
                ed25519_host_key=" ".join(ed_pub.split()[:2]),
                client_key=client_key,
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def connection(port: int, private_key: str | None, host_key: str, **extra: Any) -> dict[str, Any]:
    conn: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "user": "root",
        "hostKey": host_key,
        "dialErrorLimit": 0,
        "perDialTimeout": 5,
    }
    if private_key is not None:
        conn["privateKey"] = private_key
    conn.update(extra)
    return conn


def handler() -> tuple[RemoteCommandHandler, list[str]]:
    lines: list[str] = []
    return RemoteCommandHandler(HandlerContext(progress=lines.append)), lines


def view(name: str, **inputs: Any) -> ResourceView:
    return ResourceView(
        urn=f"urn:pulumi:test::p::{TYPE}::{name}", name=name, type=TYPE, inputs=inputs
    )


def state(name: str, outputs: dict[str, Any]) -> ResourceState:
    return ResourceState(
        urn=f"urn:pulumi:test::p::{TYPE}::{name}",
        type=TYPE,
        name=name,
        custom=True,
        inputs=dict(outputs),
        outputs=dict(outputs),
    )


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def test_an_ssh_rsa_pin_offers_sha1_ssh_rsa_which_openssh_refuses(rsa_sshd: RsaSshd) -> None:
    """pulumi-command provider/pkg/provider/remote/connection.go SSHConfig:
    `hostKeyAlgorithms = []string{publicKey.Type()}`, so an RSA pin offers only "ssh-rsa"
    (SHA-1), which OpenSSH >= 8.8 no longer offers; x/crypto/ssh common.go findCommon fails with
    AlgorithmNegotiationError. The server's ed25519 key, pinned, works."""
    run, _ = handler()
    conn = connection(rsa_sshd.port, rsa_sshd.client_key, rsa_sshd.rsa_host_key)
    with pytest.raises(ProviderError) as info:
        run.create(view("rsa", connection=conn, create="true"))
    prefix = (
        "after 0 failed attempts: ssh: handshake failed: ssh: no common algorithm for host key; "
        "we offered: [ssh-rsa], peer offered: ["
    )
    message = str(info.value)
    assert message.startswith(prefix) and message.endswith("]"), message
    peer = message[len(prefix) : -1].split(" ")
    assert "ssh-rsa" not in peer and {"rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519"} <= set(peer)
    conn = connection(rsa_sshd.port, rsa_sshd.client_key, rsa_sshd.ed25519_host_key)
    _, outputs = run.create(view("ed", connection=conn, create="echo pinned"))
    assert outputs["stdout"] == "pinned"


def test_previous_output_is_an_env_request_and_a_refusal_only_warns(sshd: Sshd) -> None:
    """commandOutputs.go CommandOutputs.run: PULUMI_COMMAND_STDOUT/STDERR are set with
    Session.Setenv (a request that wants a reply) only when non-empty; a refusal is logged by
    logAndWrapSetenvErr at diag.Warning and the command still runs."""
    run, lines = handler()
    conn = connection(sshd.port, sshd.client_key, sshd.host_key)
    inputs = {
        "connection": conn,
        "create": "echo first",
        "update": "echo ${PULUMI_COMMAND_STDOUT-unset}",
    }
    old = state("prev", {**inputs, "stdout": "first", "stderr": ""})
    outputs = run.update(view("prev", **inputs), old)
    assert outputs["stdout"] == "unset"
    warnings = [line for line in lines if "warning:" in line]
    assert warnings == [
        "    [prev] warning: Unable to set 'PULUMI_COMMAND_STDOUT'. This only works if your SSH "
        "server is configured to accept\n\tthese variables via AcceptEnv. Alternatively, if a "
        "Bash-like shell runs the command on the remote host, you could\n\tprefix the command "
        "itself with the variables in the form 'VAR=value command'"
    ], "STDERR was empty: no request, no warning"


def test_previous_output_reaches_a_server_that_accepts_it(rsa_sshd: RsaSshd) -> None:
    """commandOutputs.go CommandOutputs.run and commandController.go Update (the state keeps the
    old BaseOutputs): an accepting sshd passes the previous stdout; addPreviousOutputInEnv=false
    sends nothing."""
    run, lines = handler()
    conn = connection(rsa_sshd.port, rsa_sshd.client_key, rsa_sshd.ed25519_host_key)
    inputs = {"connection": conn, "create": "echo ${PULUMI_COMMAND_STDOUT-unset}"}
    old = state("acc", {**inputs, "stdout": "from before", "stderr": ""})
    assert run.update(view("acc", **inputs), old)["stdout"] == "from before"
    off = {**inputs, "addPreviousOutputInEnv": False}
    assert run.update(view("acc", **off), old)["stdout"] == "unset"
    assert not [line for line in lines if "warning:" in line]


def test_a_refused_environment_variable_logs_an_error_and_fails(sshd: Sshd) -> None:
    """commandOutputs.go CommandOutputs.run: an `environment` Setenv failure goes through
    logAndWrapSetenvErr at diag.Error and fails the command with
    `could not set environment variable %q: ssh: setenv failed` (session.go Setenv)."""
    run, lines = handler()
    conn = connection(sshd.port, sshd.client_key, sshd.host_key)
    with pytest.raises(ProviderError) as info:
        run.create(view("env", connection=conn, create="true", environment={"NOPE": "y"}))
    assert str(info.value) == 'could not set environment variable "NOPE": ssh: setenv failed'
    assert [line.split(".")[0] for line in lines if "error:" in line] == [
        "    [env] error: Unable to set 'NOPE'"
    ]


def test_a_command_killed_by_a_signal(sshd: Sshd) -> None:
    """x/crypto/ssh session.go Session.wait: sshd sends exit-signal "KILL" (no exit-status), so
    the status is 128 + 9 and Waitmsg.String adds "from signal KILL"; commandOutputs.go run
    wraps it with the command and its output."""
    run, _ = handler()
    conn = connection(sshd.port, sshd.client_key, sshd.host_key)
    command = "echo before; kill -KILL $$"
    with pytest.raises(ProviderError) as info:
        run.create(view("sig", connection=conn, create=command, logging="none"))
    assert str(info.value) == (
        f'Process exited with status 137 from signal KILL: running "{command}":\nbefore\n'
    )


def test_delete_runs_with_the_recorded_stdin_environment_and_previous_output(
    sshd: Sshd, tmp_path: Path
) -> None:
    """commandController.go Delete: `props.run(ctx, *props.Delete, props.Logging)` on the
    recorded state, so stdin, environment and stdout from the state are all used."""
    run, _ = handler()
    conn = connection(sshd.port, sshd.client_key, sshd.host_key)
    got = tmp_path / "got"
    recorded = {
        "connection": conn,
        "delete": f"cat > {got}; echo $ENGINE_OK_D >> {got}",
        "stdin": "from-stdin\n",
        "environment": {"ENGINE_OK_D": "from-env"},
        "stdout": "old",
        "stderr": "",
    }
    run.delete(state("del", recorded))
    assert got.read_text() == "from-stdin\nfrom-env\n"


@contextlib.contextmanager
def ssh_agent(key_file: Path) -> Iterator[str]:
    sock = key_file.parent / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        wait_for(sock.exists, 10, "ssh-agent")
        subprocess.run(
            ["ssh-add", "-q", str(key_file)],
            env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
            check=True,
            capture_output=True,
        )
        yield str(sock)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_the_agent_is_not_tried_after_a_rejected_private_key(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """x/crypto/ssh client_auth.go clientAuthenticate never retries a method name it has tried:
    connection.go SSHConfig appends the private key's PublicKeys before the agent's
    PublicKeysCallback, both "publickey", so with a rejected privateKey the agent's (valid) key
    is never offered. Without privateKey the agent is used."""
    if not shutil.which("ssh-agent"):
        pytest.skip("needs ssh-agent")
    wrong_key, _ = keygen(tmp_path / "wrong")
    with ssh_agent(sshd.client_key_file) as agent_sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", agent_sock)
        run, _ = handler()
        conn = connection(sshd.port, wrong_key, sshd.host_key)
        with pytest.raises(ProviderError) as info:
            run.create(view("agent", connection=conn, create="true"))
        assert str(info.value) == (
            "after 0 failed attempts: ssh: handshake failed: ssh: unable to authenticate, "
            "attempted methods [none publickey], no supported methods remain"
        )
        _, outputs = run.create(
            view("agent", connection=connection(sshd.port, None, sshd.host_key), create="echo ok")
        )
        assert outputs["stdout"] == "ok"
