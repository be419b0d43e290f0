"""(c) The 2018 manual procedure: bench/manual/*.sh, one `ssh` per command, serially."""

from __future__ import annotations

import os
from pathlib import Path

from bench.spec import Federation
from bench.tools.base import Outcome, run_command
from tests.lab import Lab

SCRIPTS = Path(__file__).resolve().parents[1] / "manual"


class ManualTool:
    key = "manual"
    label = "(c) 2018 manual procedure, serial ssh"

    def __init__(self, lab: Lab, federation: Federation) -> None:
        self.lab = lab
        self.federation = federation
        self.workdir = Path()

    def prepare(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        nodes = workdir / "nodes.txt"
        nodes.write_text(
            "".join(f"{n.alias} {n.ip} {n.hostname} {n.role}\n" for n in self.federation.nodes)
        )
        (workdir / "steps.log").unlink(missing_ok=True)

    def _run(self, script: str) -> Outcome:
        env = {
            **os.environ,
            "NODES_FILE": str(self.workdir / "nodes.txt"),
            "SSH_KEY": str(self.lab.key_file),
            "KNOWN_HOSTS": str(self.lab.known_hosts_file),
            "STEP_LOG": str(self.workdir / "steps.log") if script == "deploy.sh" else "",
        }
        argv = ["bash", str(SCRIPTS / script)]
        return run_command(argv, env, self.workdir, self.workdir / "manual.log")

    def deploy(self) -> Outcome:
        outcome = self._run("deploy.sh")
        log = self.workdir / "steps.log"
        if log.exists():
            for line in log.read_text().splitlines():
                name, start, end = line.split()
                outcome.steps[name] = float(end) - float(start)
        return outcome

    def rerun(self) -> Outcome:
        return self._run("rerun.sh")

    def teardown(self) -> Outcome:
        return self._run("teardown.sh")

    def cleanup(self) -> None:
        return None
