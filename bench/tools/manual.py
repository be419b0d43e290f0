"""(c) The 2018 manual procedure: bench/manual/*.sh, one `ssh` per command, serially."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from bench.spec import KEYSTORE_ARGS, UPGRADE_IMAGE, Federation
from bench.tools.base import Outcome, run_command
from tests.lab import Lab

SCRIPTS = Path(__file__).resolve().parents[1] / "manual"


def _nodes_file(path: Path, federation: Federation) -> Path:
    path.write_text("".join(f"{n.alias} {n.ip} {n.hostname} {n.role}\n" for n in federation.nodes))
    return path


class ManualTool:
    key = "manual"
    label = "(c) 2018 manual procedure, serial ssh"
    trust_boundary = False

    def __init__(self, lab: Lab, federation: Federation, plus: Federation | None = None) -> None:
        self.lab = lab
        self.federation = federation
        self.plus = plus  # the federation with one more hospital (the lab's spare host)
        self.workdir = Path()

    def prepare(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        _nodes_file(workdir / "nodes.txt", self.federation)
        if self.plus is not None:
            _nodes_file(workdir / "nodes-plus.txt", self.plus)
        (workdir / "keystore-args").write_text(
            " ".join(shlex.quote(arg) for arg in KEYSTORE_ARGS) + "\n"
        )
        for log in workdir.glob("steps*.log"):
            log.unlink()

    def _run(self, script: str, nodes: str = "nodes.txt", **extra: str) -> Outcome:
        step_log = self.workdir / f"steps-{script.removesuffix('.sh')}.log"
        env = {
            **os.environ,
            "NODES_FILE": str(self.workdir / nodes),
            "SSH_KEY": str(self.lab.key_file),
            "KNOWN_HOSTS": str(self.lab.known_hosts_file),
            "KEYSTORE_ARGS_FILE": str(self.workdir / "keystore-args"),
            "STEP_LOG": "" if script in ("rerun.sh", "teardown.sh") else str(step_log),
            **extra,
        }
        argv = ["bash", str(SCRIPTS / script)]
        outcome = run_command(argv, env, self.workdir, self.workdir / "manual.log")
        if step_log.exists():
            for line in step_log.read_text().splitlines():
                name, start, end = line.split()
                outcome.steps[name] = float(end) - float(start)
        return outcome

    def deploy(self) -> Outcome:
        return self._run("deploy.sh")

    def rerun(self) -> Outcome:
        return self._run("rerun.sh")

    def add(self) -> Outcome:
        if self.plus is None:
            return Outcome(ok=False, detail="no spare host for an added hospital")
        return self._run("add.sh", "nodes-plus.txt", ADD_ALIAS=self.plus.workers[-1].alias)

    def remove(self) -> Outcome:
        if self.plus is None:
            return Outcome(ok=False, detail="no spare host for an added hospital")
        gone = self.plus.workers[-1]
        return self._run(
            "remove.sh",
            REMOVE_ALIAS=gone.alias,
            REMOVE_IP=gone.ip,
            REMOVE_HOST=gone.hostname,
        )

    def upgrade(self) -> Outcome:
        return self._run("upgrade.sh", NEW_IMAGE=UPGRADE_IMAGE)

    def teardown(self) -> Outcome:
        return self._run("teardown.sh")

    def cleanup(self) -> None:
        return None
