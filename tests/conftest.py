"""Shared fixtures: a valid federation config to start from, and program evaluation under mocks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.program import TEST_PRIVATE_KEY, Evaluation, evaluate

VALID_NODES = [
    {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
    {"name": "hug", "host": "198.51.100.21", "role": "worker"},
    {"name": "brescia", "host": "203.0.113.31", "role": "worker"},
    {"name": "lille", "host": "203.0.113.41", "role": "worker"},
]
VALID_SECRETS = {
    "sshPrivateKey": TEST_PRIVATE_KEY,
    "ldsmPasswords": {n["name"]: f"ldsm-password-of-{n['name']}" for n in VALID_NODES},
}


@pytest.fixture
def config() -> dict[str, Any]:
    """A valid configuration (keys without namespace) that tests may change."""
    return {"ssh": {"user": "mipadmin"}, "nodes": copy.deepcopy(VALID_NODES)}


@pytest.fixture
def secrets() -> dict[str, Any]:
    return copy.deepcopy(VALID_SECRETS)


@pytest.fixture
def run():
    """evaluate(config, secrets, stack) -> Evaluation, the real __main__.py under mocks."""

    def _run(
        config: dict[str, Any], secrets: dict[str, Any] | None = None, stack: str = "test"
    ) -> Evaluation:
        return evaluate(config, VALID_SECRETS if secrets is None else secrets, stack)

    return _run


from tests.lab.fixture import lab  # noqa: E402, F401  (session fixture: the 5-host local lab)
