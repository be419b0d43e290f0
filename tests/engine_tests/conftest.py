"""Fixtures for the engine double's own tests: a real sshd (and dockerd) on loopback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_tests import labkit


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lab: needs root and real services (sshd, dockerd) on this machine"
    )


def _lab_available() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    if not Path(labkit.SSHD).exists() or not shutil.which("ssh"):
        return "needs openssh-server and openssh-client"
    return None


@pytest.fixture(scope="session")
def sshd() -> Iterator[labkit.Sshd]:
    reason = _lab_available()
    if reason:
        pytest.skip(reason)
    with labkit.run_sshd() as server:
        yield server


@pytest.fixture(scope="session")
def dockerd() -> Iterator[labkit.Dockerd]:
    reason = _lab_available()
    if reason or not Path(labkit.DOCKERD).exists() or not Path(labkit.BUSYBOX).exists():
        pytest.skip(reason or "needs docker.io and busybox-static")
    with labkit.run_dockerd() as daemon:
        yield daemon


@pytest.fixture(scope="session")
def docker_sshd(dockerd: labkit.Dockerd) -> Iterator[labkit.Sshd]:
    """An sshd whose sessions' `docker` CLI talks to the test dockerd."""
    with labkit.run_sshd(docker_sock=dockerd.socket) as server:
        yield server


@pytest.fixture
def remote_dir(sshd: labkit.Sshd, tmp_path: Path) -> Path:
    """A folder the remote commands write marker files to (same machine)."""
    path = tmp_path / "remote"
    path.mkdir()
    return path
