"""`python -m tests.lab deploy|destroy STACKFILE --secrets FILE`, the main job on the lab."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.e2e.conftest import swarm_nodes, swarm_state
from tests.program import ROOT

pytestmark = pytest.mark.lab


def lab_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.lab", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_deploy_and_destroy_from_the_command_line(federation, tmp_path):
    lab = federation.lab
    stack_file = tmp_path / "Pulumi.cli.yaml"
    printed = lab_cli("stack", "--names", "chuv,hug,bern", "--unencrypted")
    assert printed.returncode == 0, printed.stderr
    stack_file.write_text(printed.stdout)
    secrets_file = tmp_path / "secrets.yaml"
    password = "cli-ldsm-secret-7f3a"
    secrets_file.write_text(yaml.safe_dump({"mip-federation:ldsmPasswords": {"hug": password}}))
    common = [
        "--secrets",
        str(secrets_file),
        "--state",
        str(tmp_path / "state.json"),
        "--program-dir",
        str(ROOT),
    ]

    deployed = lab_cli("deploy", str(stack_file), *common)
    assert deployed.returncode == 0, deployed.stderr
    outputs = json.loads(deployed.stdout)
    assert outputs["leaderAddress"] == lab.host(1).ip
    assert [n["name"] for n in outputs["nodes"]] == ["chuv", "hug", "bern"]
    assert password not in deployed.stdout + deployed.stderr
    assert {n["name"] for n in swarm_nodes(lab).values()} == {"chuv", "hug", "bern"}

    again = lab_cli("deploy", str(stack_file), *common)
    assert again.returncode == 0 and "(13 unchanged)" in again.stderr

    destroyed = lab_cli("destroy", str(stack_file), *common)
    assert destroyed.returncode == 0, destroyed.stderr
    assert all(swarm_state(lab, i) == "inactive" for i in (1, 2, 3))
