"""`python -m tests.lab stack|deploy|destroy`, the README's main job on the lab."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from tests.e2e.conftest import swarm_nodes, swarm_state
from tests.program import ROOT

pytestmark = pytest.mark.lab


def lab_cli(lab, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tests.lab", "--prefix", lab.prefix, "--subnet", lab.subnet]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_deploy_and_destroy_from_the_command_line(federation, tmp_path):
    lab = federation.lab
    stack_file = tmp_path / "Pulumi.cli.yaml"
    secrets_file = tmp_path / "secrets.yaml"
    printed = lab_cli(
        lab,
        "stack",
        "--names",
        "chuv,hug,bern",
        "--unencrypted",
        "--secrets-file",
        str(secrets_file),
    )
    assert printed.returncode == 0, printed.stderr
    stack_file.write_text(printed.stdout)
    passwords = yaml.safe_load(secrets_file.read_text())["mip-federation:ldsmPasswords"]
    state = ["--state", str(tmp_path / "state.json"), "--program-dir", str(ROOT)]
    common = ["--secrets", str(secrets_file), *state]

    deployed = lab_cli(lab, "deploy", str(stack_file), *common)
    assert deployed.returncode == 0, deployed.stderr
    outputs = json.loads(deployed.stdout)
    assert outputs["leaderAddress"] == lab.host(1).ip
    assert [n["name"] for n in outputs["nodes"]] == ["chuv", "hug", "bern"]
    assert not any(p in deployed.stdout + deployed.stderr for p in passwords.values())
    assert {n["name"] for n in swarm_nodes(lab).values()} == {"chuv", "hug", "bern"}
    steps = re.search(r"^(\d+) steps \(0 unchanged\)$", deployed.stderr, re.MULTILINE)
    assert steps, deployed.stderr

    again = lab_cli(lab, "deploy", str(stack_file), *common)
    assert again.returncode == 0 and f"({steps[1]} unchanged)" in again.stderr, again.stderr

    destroyed = lab_cli(lab, "destroy", str(stack_file), *common)
    assert destroyed.returncode == 0, destroyed.stderr
    assert all(swarm_state(lab, i) == "inactive" for i in (1, 2, 3))
