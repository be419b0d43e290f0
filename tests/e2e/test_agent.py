"""Logging in through a real ssh-agent: a deploy with a passphrase-protected key that only the
agent holds, and an existing stack moving from ssh.privateKeyFile to the agent.

Both the commands (the engine double's ssh, as pulumi-command v1.2.1 connection.go SSHConfig:
agentSocketPath, else SSH_AUTH_SOCK) and the docker provider's ssh binary find the agent through
SSH_AUTH_SOCK, which the engine's worker inherits from this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import running_tasks, sh, swarm_nodes, wait_for
from tests.engine.state import load_state
from tests.lab.exareme_check import is_working

pytestmark = pytest.mark.lab

THREE = ["chuv", "hug", "bern"]
# docs/upgrading.md: every command without ignore_changes on its connection, and both docker
# providers (their sshOpts lose -i); nothing is replaced.
UPDATED_ON_A_CONNECTION_CHANGE = [
    "swarm-init",
    "swarm-join-tokens",
    "swarm-autolock",
    "query-port-firewall",
    *(f"join-{name}" for name in THREE[1:]),
    *(f"node-{name}" for name in THREE),
    "leader-docker",
    "portal-docker",
]
PASSPHRASE = "correct horse battery staple"  # the test key's, made here


@contextlib.contextmanager
def ssh_agent(directory: Path, key_file: Path, passphrase: str | None = None) -> Iterator[str]:
    """An ssh-agent of its own holding `key_file` (ssh-add asks for the passphrase through
    SSH_ASKPASS, as a desktop would); yields its socket."""
    sock = directory / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        wait_for(sock.exists, 10, what="ssh-agent's socket")
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        if passphrase is not None:
            askpass = directory / "askpass"
            askpass.write_text(f"#!/bin/sh\necho '{passphrase}'\n")
            askpass.chmod(0o700)
            env |= {"SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"}
        added = subprocess.run(
            ["ssh-add", str(key_file)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        assert added.returncode == 0, added.stderr
        yield str(sock)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def passphrase_key(directory: Path) -> Path:
    key = directory / "id_agent"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", PASSPHRASE, "-C", "agent", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key


def without_key_file(config: dict[str, Any]) -> dict[str, Any]:
    ssh = {k: v for k, v in config["ssh"].items() if k != "privateKeyFile"}
    return {**config, "ssh": ssh}


def commands_with_a_stored_key(state_file: Path) -> set[str]:
    """The commands whose stored `connection` input (decrypted) holds a privateKey."""
    state = load_state(state_file, "e2e", "mip-federation")
    return {
        r.name
        for r in state.resources
        if r.type == "command:remote:Command" and '"privateKey"' in json.dumps(r.inputs)
    }


def host_snapshot(lab, count: int) -> dict[str, Any]:
    """What an init, join, label, firewall or service update would change: the swarm's id, each
    node's id, spec version, role and labels, each service's spec version, each running task's
    id, and the leader's query-port rules (iptables and ip6tables)."""
    nodes = sh(
        lab,
        1,
        "docker node ls -q | xargs docker node inspect --format "
        "'{{.ID}} {{.Version.Index}} {{.Spec.Role}} {{json .Spec.Labels}}'",
    )
    services = sh(
        lab,
        1,
        "docker service ls -q | xargs docker service inspect --format "
        "'{{.Spec.Name}} {{.Version.Index}}'",
    )
    return {
        "swarm": sh(
            lab, 1, "docker info --format '{{.Swarm.Cluster.ID}} {{.Swarm.Cluster.Version}}'"
        ),
        "node ids": [
            sh(lab, i, "docker info --format '{{.Swarm.NodeID}}'") for i in range(1, count + 1)
        ],
        "nodes": sorted(nodes.splitlines()),
        "services": sorted(services.splitlines()),
        "tasks": running_tasks(lab),
        "query port rules": [
            sh(lab, 1, f"{tool} -S MIP-FEDERATION-QUERY") for tool in ("iptables", "ip6tables")
        ],
    }


def test_a_passphrase_key_held_by_the_agent_deploys(federation, tmp_path, monkeypatch):
    """No sshPrivateKey, no ssh.privateKeyFile: every command and the docker provider log in with
    a passphrase-protected ed25519 key that only the agent can use (the hosts accept no other)."""
    lab = federation.lab
    key = passphrase_key(tmp_path)
    public = key.with_suffix(".pub").read_text()
    for index in range(1, len(THREE) + 1):
        lab.run(index, "cat > /root/.ssh/authorized_keys", input=public)
    config = without_key_file(federation.config(THREE))

    with ssh_agent(tmp_path, key, PASSPHRASE) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        deployed = federation.deploy(config)
        assert deployed.ok, deployed.errors
        assert {n["name"] for n in swarm_nodes(lab).values()} == set(THREE)
        wait_for(lambda: is_working(lab, 1, THREE), timeout=90, what="a working federation")
        assert not commands_with_a_stored_key(federation.state_file), "no key in the state"

    # Without the agent, `pulumi up` stops before it touches a host.
    monkeypatch.delenv("SSH_AUTH_SOCK")
    refused = federation.deploy(config)
    assert not refused.ok and not refused.operations
    assert "SSH_AUTH_SOCK is not set" in str(refused.errors)


def test_a_stack_deployed_with_a_key_file_moves_to_the_agent_without_touching_a_host(
    federation, tmp_path, monkeypatch
):
    """The upgrade of docs/upgrading.md: deployed with ssh.privateKeyFile, then the setting is
    removed and the same key is loaded into an agent. The preview lists what the next `up` does;
    that `up` leaves the swarm, its nodes, services and tasks as they were, and the federation
    keeps answering."""
    lab = federation.lab
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with_file = {**federation.config(THREE), "swarm": {"autolock": True}}
    first = federation.deploy(with_file)
    assert first.ok, first.errors
    wait_for(lambda: is_working(lab, 1, THREE), timeout=90, what="a working federation")
    before = host_snapshot(lab, len(THREE))

    agent_config = without_key_file(with_file)
    with ssh_agent(tmp_path, lab.key_file) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        planned = federation.preview(agent_config)
        assert planned.ok, planned.errors
        changes = {n: op for n, op in planned.step_ops().items() if op != "same"}
        print("preview after the switch:", json.dumps(changes, indent=1, sort_keys=True))
        assert changes == dict.fromkeys(UPDATED_ON_A_CONNECTION_CHANGE, "update"), changes

        applied = federation.deploy(agent_config)
        assert applied.ok, applied.errors
        commands_run = sorted({o["name"] for o in applied.operations if o["op"] == "update"})
        print("updated by the up:", commands_run)

        assert host_snapshot(lab, len(THREE)) == before
        assert is_working(lab, 1, THREE)
        # The key leaves the state with each update; the probes ignore their connection
        # (federation/probe.py) and keep it until they are replaced.
        kept = commands_with_a_stored_key(federation.state_file)
        print("commands keeping the stored key:", sorted(kept))
        assert all(name.startswith("probe-") for name in kept), kept

        again = federation.preview(agent_config)
        assert again.ok and set(again.step_ops().values()) == {"same"}, again.step_ops()
