"""Deploying the real program into the local lab through the engine double."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from federation.stackfile import config_text
from tests.engine import DeployResult, PreviewResult, deploy, destroy, preview
from tests.lab import Lab
from tests.program import ROOT


def with_ldsm_passwords(
    config: dict[str, Any], secrets: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`secrets`, with an LDSM password for every node when they hold none: the Exareme image
    exits at start when RAWPASSWORD is empty (bootstrap.sh, tests/lab/README.md)."""
    secrets = secrets or {}
    if "ldsmPasswords" in secrets:
        return secrets
    nodes = [n for n in config.get("nodes", []) if isinstance(n, dict) and "name" in n]
    return {**secrets, "ldsmPasswords": {n["name"]: f"ldsm-pw-{n['name']}" for n in nodes}}


@dataclass
class Federation:
    """One stack deployed into the lab, with its own engine state."""

    lab: Lab
    state_file: Path
    stack: str = "e2e"

    def config(
        self, names: list[str], managers: int = 1, encrypted: bool = False
    ) -> dict[str, Any]:
        """Stack config (keys without namespace) for the first len(names) lab hosts."""
        document = self.lab.stack_config(names, managers=managers, encrypted=encrypted)
        return {k.split(":", 1)[1]: v for k, v in document["config"].items()}

    def deploy(
        self, config: dict[str, Any], secrets: dict[str, Any] | None = None, refresh: bool = False
    ) -> DeployResult:
        """`pulumi up` (`refresh`: `pulumi up --refresh`)."""
        return deploy(
            ROOT,
            self.stack,
            *self._engine_config(config, secrets),
            state_file=self.state_file,
            timeout=600,
            refresh=refresh,
        )

    @staticmethod
    def _engine_config(
        config: dict[str, Any], secrets: dict[str, Any] | None
    ) -> tuple[dict[str, str], list[str]]:
        """(config with namespace, its secret keys), with LDSM passwords when none are given."""
        secrets = with_ldsm_passwords(config, secrets)
        values = {**config, **secrets}
        engine_config = {f"mip-federation:{k}": config_text(v) for k, v in values.items()}
        return engine_config, [f"mip-federation:{k}" for k in secrets]

    def preview(
        self, config: dict[str, Any], secrets: dict[str, Any] | None = None
    ) -> PreviewResult:
        """`pulumi preview` of `config` against this stack's state."""
        return preview(ROOT, self.stack, *self._engine_config(config, secrets), self.state_file)

    def destroy(self) -> DeployResult:
        return destroy(self.stack, state_file=self.state_file, timeout=600)


@pytest.fixture
def federation(lab: Lab, tmp_path: Path) -> Federation:
    lab.reset()
    return Federation(lab, tmp_path / "state.json")


def sh(lab: Lab, index: int, command: str) -> str:
    return lab.run(index, command).stdout.strip()


def swarm_nodes(lab: Lab, leader: int = 1) -> dict[str, dict[str, str]]:
    """hostname -> {role, name label, state, availability, id} as the leader sees them."""
    out = sh(
        lab,
        leader,
        "docker node ls -q | xargs docker node inspect --format "
        '\'{{.Description.Hostname}}|{{.Spec.Role}}|{{index .Spec.Labels "name"}}|'
        "{{.Status.State}}|{{.Spec.Availability}}|{{.ID}}'",
    )
    table = {}
    for line in out.splitlines():
        host, role, label, state, availability, node_id = line.split("|")
        table[host] = {
            "role": role,
            "name": label,
            "state": state,
            "availability": availability,
            "id": node_id,
        }
    return table


def swarm_state(lab: Lab, index: int) -> str:
    return sh(lab, index, "docker info --format '{{.Swarm.LocalNodeState}}'")


def running_tasks(lab: Lab, leader: int = 1) -> dict[str, tuple[str, str]]:
    """service -> (task id, node hostname) of its running task."""
    out = sh(
        lab,
        leader,
        "for s in $(docker service ls -q); do docker service ps --filter desired-state=running "
        "--format '{{.Name}} {{.ID}} {{.Node}} {{.CurrentState}}' \"$s\"; done",
    )
    tasks = {}
    for line in out.splitlines():
        name, task_id, node, state = line.split()[:4]
        if state == "Running":
            tasks[name.rsplit(".", 1)[0]] = (task_id, node)
    return tasks


def wait_for(predicate, timeout: float = 60, interval: float = 0.5, what: str = "condition"):
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
