"""What every tool offers the runner: deploy, re-run with no change, add and remove one hospital,
upgrade Exareme, tear down."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass
class Outcome:
    """One timed action: did it work, and what it left for the report (ops log, step log)."""

    ok: bool
    detail: str = ""
    operations: list[dict[str, Any]] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)  # step name -> seconds


class Tool(Protocol):
    key: str  # column key: program, ansible, ansible-forks, manual
    label: str  # how the report names it
    # Whether it deploys the program's trust boundary (bench/spec.py), which the end state shows.
    trust_boundary: bool

    def prepare(self, workdir: Path) -> None:
        """Untimed set-up before a deploy on a fresh lab (files, stale state)."""

    def deploy(self) -> Outcome: ...

    def rerun(self) -> Outcome: ...

    def add(self) -> Outcome:
        """Add one hospital (the lab's spare host) to the deployed federation."""

    def remove(self) -> Outcome:
        """Remove that hospital again: back to the federation `deploy` made."""

    def upgrade(self) -> Outcome:
        """Move the master and every worker to the lab's second Exareme tag (UPGRADE_IMAGE)."""

    def teardown(self) -> Outcome: ...

    def cleanup(self) -> None:
        """Untimed: release what the tool left running (e.g. ssh control masters)."""


def run_command(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Outcome:
    """Run a tool's command, output to `log`; failure detail is the log's tail."""
    with log.open("ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        status = subprocess.run(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=False
        ).returncode
    if status == 0:
        return Outcome(ok=True)
    tail = log.read_text(errors="replace")[-2000:]
    return Outcome(ok=False, detail=f"exit status {status}; {log}:\n{tail}")
