"""(b) An Ansible playbook with community.docker (bench/ansible/), from the `ansible` package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from bench.spec import EXAREME_IMAGE, KEYSTORE_ARGS, UPGRADE_IMAGE, Federation, Node
from bench.tools.base import Outcome, run_command
from tests.lab import Lab

PLAYBOOKS = Path(__file__).resolve().parents[1] / "ansible"
TARGET_PYTHON = "/usr/bin/python3"
DEFAULT_FORKS = 5  # ansible-config: DEFAULT_FORKS
RECAP_RE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", re.MULTILINE)
# ansible.posix.profile_tasks' summary: "Play : Task ---- 1.23s" or "Task ---- 1.23s", per task
PROFILE_RE = re.compile(r"^(?:.+? : )?(.+?) -{3,} (\d+\.\d+)s$", re.MULTILINE)
PROFILE_CALLBACK = "ansible.posix.profile_tasks"


def task_seconds(log: str) -> dict[str, float]:
    """Each task's wall clock from profile_tasks' summary in a playbook's output."""
    return {name.strip(): float(seconds) for name, seconds in PROFILE_RE.findall(log)}


def ansible_bin(name: str) -> str:
    """The Ansible command installed next to this Python (the venv), else from PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


class AnsibleTool:
    trust_boundary = False

    def __init__(
        self, lab: Lab, federation: Federation, forks: int | None, plus: Federation | None = None
    ) -> None:
        self.lab = lab
        self.federation = federation
        self.plus = plus  # the federation with one more hospital (the lab's spare host)
        self.forks = forks
        self.key = "ansible" if forks is None else "ansible-forks"
        shown = f"default forks ({DEFAULT_FORKS})" if forks is None else f"forks = {forks}"
        self.label = f"(b) Ansible community.docker, {shown}"
        self.workdir = Path()

    def prepare(self, workdir: Path) -> None:
        self.workdir = workdir
        (workdir / "cp").mkdir(parents=True, exist_ok=True)
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        ssh_args = " ".join(
            [
                "-F /dev/null -o IdentitiesOnly=yes -o BatchMode=yes",
                f"-o UserKnownHostsFile={self.lab.known_hosts_file}",
                "-o StrictHostKeyChecking=yes",
            ]
        )
        head = ["[all:vars]"]
        head += [
            "ansible_user=root",
            f"ansible_ssh_private_key_file={self.lab.key_file}",
            f"ansible_ssh_common_args='{ssh_args}'",
            # Debian's Python with python3-docker: community.docker.docker_swarm needs the
            # Docker SDK on the target (the lab hosts share this machine's /usr).
            f"ansible_python_interpreter={TARGET_PYTHON}",
        ]
        # The keystore's arguments as unsafe strings: a go-sockaddr template is not Jinja.
        (workdir / "vars.yml").write_text(
            f"exareme_image: {EXAREME_IMAGE}\n"
            + "keystore_args:\n"
            + "".join(f"  - !unsafe {json.dumps(arg)}\n" for arg in KEYSTORE_ARGS)
        )
        base = self.federation
        _inventory(workdir / "inventory.ini", head, base)
        if self.plus is not None:
            _inventory(workdir / "inventory-plus.ini", head, self.plus)
            _inventory(workdir / "inventory-remove.ini", head, base, self.plus.workers[-1])

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"),
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.workdir / "cp"),
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            # Each task's time, for the projection (a summary at the end, no other change).
            "ANSIBLE_CALLBACKS_ENABLED": PROFILE_CALLBACK,
        }
        if self.forks is not None:
            env["ANSIBLE_FORKS"] = str(self.forks)
        return env

    def _play(
        self,
        playbook: str,
        inventory: str = "inventory.ini",
        name: str = "",
        extra: tuple[str, ...] = (),
    ) -> Outcome:
        argv = [
            ansible_bin("ansible-playbook"),
            "-i",
            str(self.workdir / inventory),
            "-e",
            f"@{self.workdir / 'vars.yml'}",
            *extra,
            str(PLAYBOOKS / playbook),
        ]
        log = self.workdir / f"{name or playbook}.log"
        log.unlink(missing_ok=True)
        outcome = run_command(argv, self._env(), self.workdir, log)
        outcome.detail = outcome.detail or log.read_text(errors="replace")
        return outcome

    def deploy(self) -> Outcome:
        outcome = self._play("deploy.yml")
        outcome.steps = task_seconds(outcome.detail)
        outcome.detail = "" if outcome.ok else outcome.detail
        return outcome

    def rerun(self) -> Outcome:
        outcome = self._play("deploy.yml")
        changed = {host: int(n) for host, n in RECAP_RE.findall(outcome.detail) if int(n)}
        if outcome.ok and changed:
            return Outcome(ok=False, detail=f"re-run changed something: {changed}")
        outcome.detail = "" if outcome.ok else outcome.detail
        return outcome

    def add(self) -> Outcome:
        """deploy.yml again with the added hospital in the inventory (it joins, is labelled,
        gets its worker service, and the master's EXA_WORKERS_WAIT changes)."""
        if self.plus is None:
            return Outcome(ok=False, detail="no spare host for an added hospital")
        outcome = self._play("deploy.yml", "inventory-plus.ini", "add")
        outcome.detail = "" if outcome.ok else outcome.detail
        return outcome

    def remove(self) -> Outcome:
        """remove.yml: deploy.yml only makes what its inventory lists present."""
        if self.plus is None:
            return Outcome(ok=False, detail="no spare host for an added hospital")
        outcome = self._play("remove.yml", "inventory-remove.ini")
        outcome.detail = "" if outcome.ok else outcome.detail
        return outcome

    def upgrade(self) -> Outcome:
        """deploy.yml again with the new image: each service task updates its service in turn."""
        extra = ("-e", f"exareme_image={UPGRADE_IMAGE}")
        outcome = self._play("deploy.yml", name="upgrade", extra=extra)
        outcome.detail = "" if outcome.ok else outcome.detail
        return outcome

    def teardown(self) -> Outcome:
        outcome = self._play("teardown.yml")
        outcome.detail = "" if outcome.ok else outcome.detail
        return outcome

    def cleanup(self) -> None:
        """Stop the ssh control masters (ControlPersist) this run left behind."""
        for socket in (self.workdir / "cp").glob("*"):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "x"],
                capture_output=True,
                check=False,
                timeout=10,
            )


def _inventory(
    path: Path, head: list[str], federation: Federation, removed: Node | None = None
) -> None:
    lines = list(head)
    groups = [("managers", [federation.leader]), ("workers", list(federation.workers))]
    if removed is not None:
        groups.append(("removed", [removed]))
    for group, nodes in groups:
        lines.append(f"[{group}]")
        lines += [
            f"{n.alias} ansible_host={n.ip} alias={n.alias} swarm_hostname={n.hostname}"
            for n in nodes
        ]
    path.write_text("\n".join(lines) + "\n")
