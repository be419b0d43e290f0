"""How the program reaches nodes: the docker provider's ssh options and the dial settings."""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import subprocess

import pytest

import federation.ssh
from federation.ssh import CONTROL_PATH, DIAL_ERROR_LIMIT, PER_DIAL_TIMEOUT


def test_control_socket_sits_directly_in_the_home_directory():
    # `pulumi destroy` does not run the program, so nothing may have to be created before ssh
    # runs: the socket's directory is the home directory itself (not ~/.ssh, not /tmp).
    assert CONTROL_PATH == "~/.mip-federation-%C"
    assert os.path.dirname(CONTROL_PATH) == "~"
    assert not hasattr(federation.ssh, "ensure_control_dir")


def test_provider_uses_the_control_path(run, config):
    opts = json.loads(run(config).named("leader-docker").plain["sshOpts"])
    assert "ControlPath=~/.mip-federation-%C" in opts
    assert "ControlMaster=auto" in opts


def test_evaluating_the_program_creates_nothing_in_the_home_directory(run, config, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    previous = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        run(config)
    finally:
        if previous is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = previous
    assert list(home.iterdir()) == []


@pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client")
def test_ssh_expands_the_control_path_into_the_users_home(run, config):
    opts = json.loads(run(config).named("leader-docker").plain["sshOpts"])
    shown = subprocess.run(
        ["ssh", "-G", *opts, "mipadmin@192.0.2.10"], capture_output=True, text=True, check=True
    ).stdout
    [line] = [x for x in shown.splitlines() if x.startswith("controlpath ")]
    path = line.split(" ", 1)[1]
    home = os.path.expanduser(f"~{pwd.getpwuid(os.getuid()).pw_name}")
    if path.startswith("~/"):  # older ssh -G prints it unexpanded
        path = home + path[1:]
    assert os.path.dirname(path) == home
    assert os.path.basename(path).startswith(".mip-federation-")


def test_dial_settings():
    # pulumi-command dials at most DIAL_ERROR_LIMIT + 1 times, each TCP connect bounded by
    # PER_DIAL_TIMEOUT seconds (the SSH handshake is not bounded by it).
    assert (DIAL_ERROR_LIMIT, PER_DIAL_TIMEOUT) == (3, 10)


# --- how the commands authenticate: the SSH agent by default ---------------------------------


def agent_config(config, secrets):
    secrets = {k: v for k, v in secrets.items() if k != "sshPrivateKey"}
    return config, secrets


def test_without_a_key_the_commands_and_the_provider_use_the_agent(config, secrets, tmp_path):
    # pulumi-command v1.2.1 connection.go SSHConfig: with no privateKey, the agent at
    # agentSocketPath, else SSH_AUTH_SOCK, is the auth method; ssh (docker) asks the agent too.
    from tests.program import evaluate

    config, secrets = agent_config(config, secrets)
    ev = evaluate(config, secrets, preview=True)
    assert ev.commands
    for command in ev.commands:
        assert not {"privateKey", "privateKeyPassword"} & set(command.plain["connection"])
        assert "connection.privateKey" not in command.ignore_changes or command.name.startswith(
            "probe-"
        )
    opts = json.loads(ev.named("leader-docker").plain["sshOpts"])
    assert "-i" not in opts and "IdentitiesOnly=yes" not in opts


def test_an_up_with_the_agent_needs_a_live_socket(config, secrets, tmp_path, monkeypatch):
    import socket

    from federation.config import ConfigError
    from tests.program import evaluate

    config, secrets = agent_config(config, secrets)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(ConfigError, match="SSH_AUTH_SOCK is not set"):
        evaluate(config, secrets)
    path = tmp_path / "agent.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        monkeypatch.setenv("SSH_AUTH_SOCK", str(path))
        assert federation.ssh.agent_problem(os.environ) is None
        assert evaluate(config, secrets).commands


def test_a_preview_without_the_key_file_keeps_the_stored_key(config, secrets, tmp_path):
    # CI has no key file: the program sends no privateKey and ignores connection.privateKey, so
    # the engine (step_generator.go processIgnoreChanges) keeps the stored one: no change planned.
    from tests.program import evaluate

    config, secrets = agent_config(config, secrets)
    config["ssh"] = {**config.get("ssh", {}), "privateKeyFile": str(tmp_path / "absent")}
    ev = evaluate(config, secrets, preview=True)
    for command in ev.commands:
        assert "privateKey" not in command.plain["connection"]
        assert "connection.privateKey" in command.ignore_changes or (
            "connection" in command.ignore_changes
        ), command.name
    key = tmp_path / "present"
    key.write_text(secrets_key := "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n")
    config["ssh"]["privateKeyFile"] = str(key)
    ev = evaluate(config, secrets, preview=True)
    for command in ev.commands:
        assert "connection.privateKey" not in command.ignore_changes
        assert "privateKey" in command.plain["connection"]
    assert secrets_key


# --- through a jump host: ssh.proxy and nodes[i].proxy ----------------------------------------

JUMP_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIaDrR4cx4ULDw7x3pzPZtQlsbTQbRngPFi+GtSps6td"
NODE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbM3ytTFR8eYVlInnLxTpIXgJWM+ePCn8/6HnkNQ0Sx"


def jump_config(config):
    config["ssh"] = {**config["ssh"], "proxy": {"host": "192.0.2.99", "hostKey": JUMP_KEY}}
    config["nodes"][0]["proxy"] = False  # the leader is reached directly
    config["nodes"][1]["proxy"] = {
        "host": "bastion.example.org",
        "port": 2222,
        "user": "jump",
        "hostKey": JUMP_KEY,
    }
    config["nodes"][1]["hostKey"] = NODE_KEY
    return config


def test_every_command_of_a_proxied_node_dials_through_its_pinned_jump_host(run, config):
    # pulumi-command v1.2.1 connection.go Connection.Dial: connection.proxy is dialled first,
    # with its own hostKey, user and dial limits; then the node over a channel from it.
    ev = run(jump_config(config))
    by_host = {}
    for command in ev.commands:
        by_host.setdefault(command.plain["connection"]["host"], []).append(command)
    assert set(by_host) == {"192.0.2.10", "198.51.100.21", "203.0.113.31", "203.0.113.41"}
    for command in by_host["192.0.2.10"]:
        assert "proxy" not in command.plain["connection"], command.name
    [hug] = {
        json.dumps(c.plain["connection"]["proxy"], sort_keys=True) for c in by_host["198.51.100.21"]
    }
    proxy = json.loads(hug)
    assert {k: proxy[k] for k in ("host", "port", "user", "hostKey")} == {
        "host": "bastion.example.org",
        "port": 2222,
        "user": "jump",
        "hostKey": JUMP_KEY,
    }
    assert (proxy["dialErrorLimit"], proxy["perDialTimeout"]) == (
        DIAL_ERROR_LIMIT,
        PER_DIAL_TIMEOUT,
    )
    assert proxy["privateKey"] == by_host["198.51.100.21"][0].plain["connection"]["privateKey"]
    for command in by_host["203.0.113.31"]:
        proxy = command.plain["connection"]["proxy"]
        assert (proxy["host"], proxy["user"], proxy["hostKey"]) == (
            "192.0.2.99",
            "mipadmin",
            JUMP_KEY,
        )


def test_with_the_agent_the_jump_host_logs_in_through_the_agent_too(config, secrets, agent):
    from tests.program import evaluate

    config, secrets = agent_config(jump_config(config), secrets)
    ev = evaluate(config, secrets, preview=True)
    proxied = [c for c in ev.commands if "proxy" in c.plain["connection"]]
    assert proxied
    for command in proxied:
        assert "privateKey" not in command.plain["connection"]["proxy"]


def test_a_ci_preview_keeps_the_jump_hosts_stored_key_too(config, secrets, tmp_path):
    from tests.program import evaluate

    config, secrets = agent_config(jump_config(config), secrets)
    config["ssh"] = {**config["ssh"], "privateKeyFile": str(tmp_path / "absent")}
    ev = evaluate(config, secrets, preview=True)
    join = ev.named("join-hug")
    assert {"connection.privateKey", "connection.proxy.privateKey"} <= set(join.ignore_changes)


def provider_opts(ev, name="leader-docker"):
    return json.loads(ev.named(name).plain["sshOpts"])


def test_the_docker_provider_reaches_a_proxied_leader_through_a_pinned_proxy_command(
    run, config, tmp_path
):
    key_file = tmp_path / "it's a key %d"
    key_file.write_text("key")
    config = jump_config(config)
    config["nodes"][0]["proxy"] = {"host": "192.0.2.99", "hostKey": JUMP_KEY}
    config["ssh"] = {**config["ssh"], "privateKeyFile": str(key_file)}
    secrets = {"ldsmPasswords": {n["name"]: "pw" for n in config["nodes"]}}
    opts = provider_opts(run(config, secrets))
    [proxy] = [o.removeprefix("ProxyCommand=") for o in opts if o.startswith("ProxyCommand=")]
    assert not any(o.startswith("ProxyJump") for o in opts)
    # ssh expands %-tokens (%% is a %) and hands the rest to the shell: the words are these.
    words = shlex.split(
        proxy.replace("%%", "\0").replace("%h", "192.0.2.10").replace("%p", "22").replace("\0", "%")
    )
    assert words == [
        "ssh",
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={PER_DIAL_TIMEOUT}",
        "-o", "IdentitiesOnly=yes",
        "-i", str(key_file),
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", f"KnownHostsCommand=/bin/echo 192.0.2.99 {JUMP_KEY}",
        "-p", "22",
        "-l", "mipadmin",
        "-W", "[192.0.2.10]:22",
        "--", "192.0.2.99",
    ]  # fmt: skip


def test_a_provider_on_a_direct_node_has_no_proxy_command(run, config):
    opts = provider_opts(run(jump_config(config)))
    assert not any(o.startswith("ProxyCommand=") for o in opts)


@pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client")
def test_ssh_reads_the_proxy_command_as_written(run, config):
    config = jump_config(config)
    config["nodes"][0]["proxy"] = config["nodes"][1]["proxy"]
    opts = provider_opts(run(config))
    shown = subprocess.run(
        ["ssh", "-G", *opts, "mipadmin@192.0.2.10"], capture_output=True, text=True, check=True
    ).stdout
    [line] = [x for x in shown.splitlines() if x.startswith("proxycommand ")]
    assert "-p 2222 -l jump -W '[%h]:%p' -- bastion.example.org" in line
    assert f"'KnownHostsCommand=/bin/echo [bastion.example.org]:2222 {JUMP_KEY}'" in line
