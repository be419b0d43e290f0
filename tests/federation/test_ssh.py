"""How the program reaches nodes: the docker provider's ssh options and the dial settings."""

from __future__ import annotations

import json
import os
import pwd
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
