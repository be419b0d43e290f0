"""Shared fixtures: a valid federation config to start from, and program evaluation under mocks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from federation.plan.stackfile import stand_in_agent_socket
from tests.program import TEST_PRIVATE_KEY, Evaluation, evaluate

VALID_NODES = [
    {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
    {"name": "hug", "host": "198.51.100.21", "role": "worker"},
    {"name": "brescia", "host": "203.0.113.31", "role": "worker"},
    {"name": "lille", "host": "203.0.113.41", "role": "worker"},
]
# prod stacks require digest-pinned Exareme images (the sample digests of Pulumi.prod.yaml).
PROD_IMAGES = {
    "image": "hbpmip/exareme:v5@sha256:" + "0123456789abcdef" * 4,
    "keystoreImage": "hashicorp/consul:1.15.4@sha256:" + "fedcba9876543210" * 4,
}
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
def agent() -> Iterator[str]:
    """SSH_AUTH_SOCK at a listening stand-in socket, put back afterwards, as federation.plan
    evaluates a stack that logs in through the agent: its `pulumi up` wants a live agent."""
    with stand_in_agent_socket() as path:
        yield path


@pytest.fixture
def run():
    """evaluate(config, secrets, stack) -> Evaluation, the real __main__.py under mocks.

    A prod stack requires digest-pinned Exareme images: where `config` sets none, PROD_IMAGES
    are used (for prod stacks only). Those and VALID_NODES' documentation addresses are the
    sample stack's values, which a prod `pulumi up` refuses: they are accepted as stand-ins here.
    """

    def _run(
        config: dict[str, Any], secrets: dict[str, Any] | None = None, stack: str = "test"
    ) -> Evaluation:
        if stack == "prod" or stack.startswith("prod-"):
            config = copy.deepcopy(config)
            exareme = config.setdefault("exareme", {})
            for key, image in PROD_IMAGES.items():
                exareme.setdefault(key, image)
        secrets = VALID_SECRETS if secrets is None else secrets
        return evaluate(config, secrets, stack, allow_samples=True)

    return _run


from tests.lab.fixture import lab  # noqa: E402, F401  (session fixture: the 5-host local lab)
