"""The host scripts as text: shell-checked, `set -eu`, and parameters quoted for a real shell."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources

import pytest

from federation.scripts import render, script_text

SCRIPTS = sorted(
    p.name.removesuffix(".sh")
    for p in resources.files("federation").joinpath("scripts").iterdir()
    if p.name.endswith(".sh")
)
NASTY = [
    "a; touch /tmp/canary",
    "$(touch /tmp/canary)",
    "`touch /tmp/canary`",
    'it\'s "quoted"',
    "line1\nline2",
    "--force",
    "",
    "$HOME ${IFS} * ?",
]


def test_every_script_is_strict():
    assert SCRIPTS == ["join", "leave", "node_remove", "node_set", "swarm_init"]
    for name in SCRIPTS:
        lines = [line for line in script_text(name).splitlines() if not line.startswith("#")]
        assert lines[0] == "set -eu", f"{name}.sh must start with set -eu"


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_parse_and_pass_shellcheck(name):
    subprocess.run(["sh", "-n"], input=render(name, NODE="hug"), text=True, check=True)
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed (.ci/run installs it)")
    result = subprocess.run(
        # The script text alone: its parameters are assigned by render(), hence SC2154 excluded.
        [shellcheck, "--shell=sh", "--severity=warning", "--exclude=SC2154", "-"],
        input=script_text(name),
        text=True,
        capture_output=True,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("value", NASTY)
def test_rendered_parameters_reach_a_real_shell_verbatim(value, tmp_path):
    canary = tmp_path / "canary"
    rendered = render("node_set", NODE=value.replace("/tmp/canary", str(canary)))
    assignments = rendered.split("set -eu")[0]
    result = subprocess.run(
        ["sh", "-c", assignments + 'printf %s "$NODE"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == value.replace("/tmp/canary", str(canary))
    assert not canary.exists()


def test_parameter_names_must_be_shell_names():
    with pytest.raises(ValueError, match="upper-case shell name"):
        render("node_set", **{"NODE;id": "x"})
