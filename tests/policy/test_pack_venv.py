"""The policy pack started as the Pulumi CLI starts it, from a venv made by the guide's command.

The Python language host's RunPlugin runs `policy/venv/bin/python -u -m pulumi.policy <engine>
<pack dir>` and installs nothing, so the pack works only if the documented command made that venv.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from tests.program import ROOT

GUIDE = ROOT / "docs" / "first-deployment.md"


def documented_install_command() -> str:
    """The one line of the guide that makes the policy pack's venv."""
    [line] = [
        line.split("#")[0].strip()
        for line in GUIDE.read_text().splitlines()
        if re.match(r"^python3 -m venv policy/venv\b", line)
    ]
    return line


def test_the_guide_has_one_command_that_makes_the_packs_venv():
    command = documented_install_command()
    assert "policy/venv/bin/pip install -r policy/requirements.txt" in command


def test_the_pack_starts_from_the_venv_the_guide_makes(tmp_path: Path):
    shutil.copytree(ROOT / "policy", tmp_path / "policy", ignore=shutil.ignore_patterns("venv"))
    subprocess.run(["bash", "-euc", documented_install_command()], cwd=tmp_path, check=True)
    pack = subprocess.Popen(
        [
            str(tmp_path / "policy/venv/bin/python"),
            "-u",
            "-m",
            "pulumi.policy",
            "127.0.0.1:1",
            str(tmp_path / "policy"),
        ],
        cwd=tmp_path / "policy",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert pack.stdout is not None and pack.stderr is not None
        port = pack.stdout.readline().strip()
        assert port.isdigit(), f"the pack did not start: {pack.stderr.read()}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(
                empty_pb2.Empty(), timeout=30
            )
        assert info.name == "mip-federation-guardrails"
    finally:
        pack.terminate()
        pack.wait(timeout=10)
