"""(a) The Pulumi program, applied to the lab through the engine double (tests.engine), as the
lab's `deploy`/`destroy` do: each call is a fresh worker process, like one `pulumi up`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.spec import STACK, Federation
from bench.tools.base import Outcome
from tests.engine import DeployResult, deploy, destroy
from tests.lab import Lab

ROOT = Path(__file__).resolve().parents[2]


def _outcome(result: DeployResult) -> Outcome:
    detail = "; ".join(f"{name}: {message}" for name, message in result.errors)
    return Outcome(ok=result.ok, detail=detail, operations=result.operations)


class ProgramTool:
    key = "program"
    label = "(a) Pulumi program (engine double)"

    def __init__(self, lab: Lab, federation: Federation) -> None:
        config = federation.stack_config(lab)
        self.config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
        self.state_file = Path()
        self.docker_ssh: list[str] = []  # the docker provider's ssh command, to stop its master

    def prepare(self, workdir: Path) -> None:
        self.state_file = workdir / "state" / f"{STACK}.json"
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.state_file.parent.glob(f"{STACK}.*"):
            stale.unlink()

    def deploy(self) -> Outcome:
        outcome = _outcome(deploy(ROOT, STACK, self.config, [], self.state_file, timeout=600))
        self.docker_ssh = self.docker_ssh or _provider_ssh(self.state_file)
        return outcome

    def rerun(self) -> Outcome:
        outcome = self.deploy()
        changed = [o["name"] for o in outcome.operations if o["op"] != "same"]
        if outcome.ok and changed:
            return Outcome(ok=False, detail=f"re-run changed {changed}")
        return outcome

    def teardown(self) -> Outcome:
        return _outcome(destroy(STACK, self.state_file, timeout=600))

    def cleanup(self) -> None:
        """Stop the docker provider's ssh ControlMaster if the program uses one: its host is
        about to be factory-reset, and a master left for a dead peer would stall the next run."""
        if self.docker_ssh and any("ControlPath=" in o for o in self.docker_ssh):
            argv = [*self.docker_ssh[:-1], "-O", "exit", self.docker_ssh[-1]]
            subprocess.run(argv, capture_output=True, timeout=15, check=False)


def _provider_ssh(state_file: Path) -> list[str]:
    """`ssh [sshOpts] -l USER -p PORT HOST` of the docker provider in the state, or []."""
    try:
        state: dict[str, Any] = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return []
    for resource in state.get("resources", []):
        if resource.get("type") == "pulumi:providers:docker":
            inputs = resource.get("inputs") or {}
            opts = inputs.get("sshOpts") or []
            opts = json.loads(opts) if isinstance(opts, str) else opts
            url = urlparse(str(inputs.get("host", "")))
            if url.scheme == "ssh" and url.hostname:
                return [
                    "ssh",
                    *map(str, opts),
                    "-l",
                    url.username or "root",
                    "-p",
                    str(url.port or 22),
                    url.hostname,
                ]
    return []
