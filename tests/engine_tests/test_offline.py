"""Whole deployments that touch no host: config, outputs, errors, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.engine import deploy, destroy
from tests.engine.api import REPO_ROOT
from tests.engine_tests.labkit import write_program

COMPONENTS = """
import pulumi

config = pulumi.Config()
group = pulumi.ComponentResource("test:index:Group", "group")
child = pulumi.ComponentResource(
    "test:index:Child", "child", opts=pulumi.ResourceOptions(parent=group)
)
group.register_outputs({})
pulumi.export("nodes", config.require_object("nodes"))
pulumi.export("key", config.require_secret("sshPrivateKey"))
pulumi.export("nested", {"plain": 1, "hidden": pulumi.Output.secret("x")})
"""


def test_config_reaches_the_program_and_secrets_stay_hidden(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", COMPONENTS)
    state = tmp_path / "state.json"
    config = {
        "mip-federation:nodes": json.dumps([{"name": "a"}]),
        "mip-federation:sshPrivateKey": "PRIVATE-KEY-TEXT",
    }
    result = deploy(program, "dev", config, ["mip-federation:sshPrivateKey"], state)
    assert result.ok, result.errors
    assert result.outputs == {
        "nodes": [{"name": "a"}],
        "key": "[secret]",
        # The SDK makes a whole exported value secret when any part of it is.
        "nested": "[secret]",
    }
    assert result.operations == [], "component resources are recorded without steps"
    saved = json.loads(state.read_text())
    assert "PRIVATE-KEY-TEXT" not in state.read_text()
    assert {r["name"] for r in saved["resources"]} == {"group", "child"}
    assert destroy("dev", state).ok
    assert json.loads(state.read_text())["resources"] == []


def test_unknown_resource_types_fail_clearly(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        "import pulumi_docker as docker\ndocker.Volume('vol', name='v')\n",
    )
    result = deploy(program, "dev", {}, [], tmp_path / "state.json")
    assert not result.ok
    [(name, message)] = result.errors
    assert name == "vol"
    assert "cannot apply resource type 'docker:index/volume:Volume'" in message


def test_program_errors_are_reported_against_the_stack(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog", "import pulumi\nraise pulumi.RunError('invalid stack configuration')\n"
    )
    result = deploy(program, "dev", {}, [], tmp_path / "state.json")
    assert result.errors == [("mip-federation-dev", "invalid stack configuration")]

    program = write_program(tmp_path / "prog2", "import pulumi\n{}['missing']\n")
    result = deploy(program, "dev", {}, [], tmp_path / "state2.json")
    [(name, message)] = result.errors
    assert name == "mip-federation-dev"
    assert "KeyError: 'missing'" in message


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.engine", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_deploy_and_destroy(tmp_path: Path) -> None:
    program = write_program(tmp_path / "prog", COMPONENTS)
    stack_file = program / "Pulumi.dev.yaml"
    stack_file.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "mip-federation:nodes": [{"name": "a"}],
                    "mip-federation:sshPrivateKey": {"secure": "v1:xyz"},
                }
            }
        )
    )
    refused = run_cli("deploy", str(stack_file))
    assert refused.returncode == 2
    assert "mip-federation:sshPrivateKey" in refused.stderr

    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("mip-federation:sshPrivateKey: PRIVATE-KEY-TEXT\n")
    done = run_cli("deploy", str(stack_file), "--secrets", str(secrets))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key"] == "[secret]"
    assert "PRIVATE-KEY-TEXT" not in done.stdout + done.stderr
    assert (program / ".lab" / "state" / "dev.json").exists()
    assert (program / ".lab" / "state" / "dev.ops.jsonl").exists()

    gone = run_cli("destroy", str(stack_file))
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout) == {}


def test_duplicate_urns_are_refused(tmp_path: Path) -> None:
    program = write_program(
        tmp_path / "prog",
        "import pulumi\n"
        "pulumi.ComponentResource('test:index:Group', 'same')\n"
        "pulumi.ComponentResource('test:index:Group', 'same')\n",
    )
    result = deploy(program, "dev", {}, [], tmp_path / "state.json")
    assert [name for name, _ in result.errors] == ["same"]
    assert "Duplicate resource URN" in result.errors[0][1]
