"""(a) The Pulumi program, applied to the lab through the engine double (tests.engine), as the
lab's `deploy`/`destroy` do: each call is a fresh worker process, like one `pulumi up`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.spec import PASSWORDS_KEY, STACK, Federation
from bench.tools.base import Outcome
from federation.stackfile import config_text
from tests.engine import DeployResult, deploy, destroy
from tests.engine.runner import default_parallel
from tests.lab import Lab

ROOT = Path(__file__).resolve().parents[2]
# "Unbounded": the pulumi CLI's default before it became 4 x GOMAXPROCS was math.MaxInt32
# ("Defaults to unbounded"); the engine double takes any positive int (its thread pools and
# semaphore grow lazily), so every step that is ready runs at once.
UNBOUNDED = 2_147_483_647


def _outcome(result: DeployResult) -> Outcome:
    detail = "; ".join(f"{name}: {message}" for name, message in result.errors)
    return Outcome(ok=result.ok, detail=detail, operations=result.operations)


def _config(lab: Lab, federation: Federation) -> dict[str, str]:
    config = federation.stack_config(lab)
    return {k: config_text(v) for k, v in config.items()}


class ProgramTool:
    """`unbounded`: --parallel 2147483647; `parallel`: that; else the CLI's default, 4 x CPUs
    (PULUMI_PARALLEL). `parallel=1` is the projection's calibration: every step alone."""

    trust_boundary = True

    def __init__(
        self,
        lab: Lab,
        federation: Federation,
        plus: Federation | None = None,
        unbounded: bool = False,
        parallel: int | None = None,
    ) -> None:
        self.parallel = UNBOUNDED if unbounded else parallel or default_parallel()
        if unbounded:
            self.key, shown = "program-unbounded", "unbounded"
        elif parallel == 1:
            self.key, shown = "program-serial", "--parallel 1 (one step at a time)"
        else:
            self.key, shown = "program", f"default --parallel {self.parallel}"
        self.label = f"(a) Pulumi program (engine double), {shown}"
        self.config = _config(lab, federation)
        self.plus_config = _config(lab, plus) if plus is not None else None
        self.upgrade_config = _config(lab, federation.upgraded())
        self.state_file = Path()
        self.docker_ssh: list[str] = []  # the docker provider's ssh command, to stop its master

    def prepare(self, workdir: Path) -> None:
        self.state_file = workdir / "state" / f"{STACK}.json"
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.state_file.parent.glob(f"{STACK}.*"):
            stale.unlink()

    def _up(self, config: dict[str, str]) -> Outcome:
        result = deploy(
            ROOT,
            STACK,
            config,
            [PASSWORDS_KEY],
            self.state_file,
            timeout=600,
            parallel=self.parallel,
        )
        outcome = _outcome(result)
        self.docker_ssh = self.docker_ssh or _provider_ssh(self.state_file)
        return outcome

    def deploy(self) -> Outcome:
        return self._up(self.config)

    def add(self) -> Outcome:
        if self.plus_config is None:
            return Outcome(ok=False, detail="no spare host for an added hospital")
        return self._up(self.plus_config)

    def remove(self) -> Outcome:
        return self._up(self.config)

    def upgrade(self) -> Outcome:
        """`up` with exareme.image the new tag: how the program rolls it out is the program's."""
        return self._up(self.upgrade_config)

    def rerun(self) -> Outcome:
        outcome = self.deploy()
        changed = [o["name"] for o in outcome.operations if o["op"] != "same"]
        if outcome.ok and changed:
            return Outcome(ok=False, detail=f"re-run changed {changed}")
        return outcome

    def teardown(self) -> Outcome:
        return _outcome(destroy(STACK, self.state_file, timeout=600, parallel=self.parallel))

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
