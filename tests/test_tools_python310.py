"""The operator tools install and start on Python 3.10 with the install the guide names.

The guide allows Python 3.10: `pulumi install` (requirements.txt) plus requirements-tools.txt.
A pin that needs 3.11 (pycparser 3.12 did) fails only at install time, so this test installs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.program import ROOT


def python310() -> str | None:
    """A Python 3.10 that runs (a pyenv shim on PATH may not)."""
    candidates = [str(p) for p in sorted(Path("/root/.pyenv/versions").glob("3.10.*/bin/python"))]
    candidates += [found] if (found := shutil.which("python3.10")) else []
    for candidate in candidates:
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(python310() is None, reason="no Python 3.10 on this machine")
def test_plan_and_doctor_run_on_python_310_from_the_guides_install(tmp_path: Path):
    python = python310()
    assert python is not None
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin/pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
            "requirements.txt",
            "-r",
            "requirements-tools.txt",
        ],
        cwd=ROOT,
        check=True,
    )

    def output_of(*args: str) -> str:
        return subprocess.run(
            [str(venv / "bin/python"), "-m", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "swarm-init" in output_of("federation.plan", "prod")
    assert "--stack-file" in output_of("federation.doctor", "--help")
