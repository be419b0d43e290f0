"""docs/first-deployment.md: the CLI version it installs is the SDK the program pins and the CLI
the workflow pins, and the commands it gives exist in this repository."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "first-deployment.md").read_text()


def pinned_sdk() -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith("pulumi=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("requirements.txt pins no pulumi SDK")


def test_guide_installs_the_cli_of_the_pinned_sdk() -> None:
    versions = set(re.findall(r"get\.pulumi\.com \| sh -s -- --version (\S+)", GUIDE))
    assert versions == {pinned_sdk()}


def test_workflow_pins_the_same_cli() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pulumi.yml").read_text())
    pins = {
        str(step["with"]["pulumi-version"])
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if isinstance(step.get("with"), dict) and "pulumi-version" in step["with"]
    }
    assert pins == {pinned_sdk()}


def test_guide_s3_login_names_a_region() -> None:
    for url in re.findall(r"pulumi login '?(s3://[^' ]+)", GUIDE):
        assert "region=" in url, url


def test_guide_steps_are_in_order() -> None:
    steps = [
        "pulumi login",
        "pulumi stack init prod --secrets-provider passphrase",
        "pulumi config set --secret",
        "ssh-add",
        "pulumi preview --diff",
        "pulumi up --stack prod",
        "git add Pulumi.prod.yaml",
    ]
    positions = [GUIDE.index(step) for step in steps]
    assert positions == sorted(positions)
