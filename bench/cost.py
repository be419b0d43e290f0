"""CPU-seconds an action costs, on the operator's side and on the lab hosts.

- **Operator**: the tool's whole process tree. While an action runs, the bench process sits in a
  cpuacct cgroup of its own (cgroup v1 `cpuacct`, else cgroup v2 `cpu.stat`), so every process
  the tool starts lands there too, including the ones that outlive the command (an ssh
  ControlMaster with ControlPersist); the cgroup's usage counts processes that have exited. The
  bench process's own CPU in that window (it only waits for the tool) is subtracted. Without a
  cgroup: `getrusage(RUSAGE_CHILDREN)`, which counts only the children that were waited for.
- **Hosts**: a lab host is a pid namespace, not a cgroup; its cost is the sum over every process
  under its PID 1 of utime + stime + cutime + cstime (`/proc/PID/stat`), sampled before and after.
  A process that exits in between is in its parent's cutime/cstime once reaped (sshd sessions,
  docker CLIs, exited containers: their parents wait for them), so the difference counts it.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab import Lab
from tests.lab.host import init_pid
from tests.lab.procs import descendants

CGROUP_ROOT = Path("/sys/fs/cgroup")
TICK = os.sysconf("SC_CLK_TCK")


def stat_ticks(stat: str) -> int:
    """utime + stime + cutime + cstime of one /proc/PID/stat line (the command may hold spaces
    and parentheses: fields are counted after the last ')')."""
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime..cstime are fields 14-17
    return sum(int(value) for value in fields[11:15])


def tree_seconds(root: int) -> float:
    total = 0
    for pid in descendants(root):
        with contextlib.suppress(OSError):
            total += stat_ticks(Path(f"/proc/{pid}/stat").read_text())
    return total / TICK


def hosts_seconds(lab: Lab) -> dict[str, float]:
    """Host name -> CPU-seconds its processes have used so far (running hosts only)."""
    out = {}
    for host in lab.hosts:
        pid = init_pid(host)
        if pid is not None:
            out[host.name] = tree_seconds(pid)
    return out


def _self_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cgroup(hierarchy: str) -> Path:
    """This process's cgroup in a v1 hierarchy (its controller name) or v2 ("")."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (hierarchy and hierarchy in controllers.split(",")) or (
            not hierarchy and not controllers
        ):
            return Path(path.lstrip("/"))
    raise OSError(f"no {hierarchy or 'v2'} cgroup for this process")


@dataclass
class OperatorMeter:
    """The cgroup the bench enters while a tool's action runs (see the module docstring)."""

    name: str
    directory: Path | None = None
    usage_file: str = ""
    home: Path | None = None  # the bench's own cgroup, to go back to
    method: str = field(default="")

    def start(self) -> None:
        for mount, usage, hierarchy in (
            (CGROUP_ROOT / "cpuacct", "cpuacct.usage", "cpuacct"),
            (CGROUP_ROOT / "unified", "cpu.stat", ""),
            (CGROUP_ROOT, "cpu.stat", ""),
        ):
            try:
                home = mount / _own_cgroup(hierarchy)
                directory = home / self.name
                directory.mkdir(exist_ok=True)
                if not (directory / usage).exists():
                    directory.rmdir()
                    continue
            except OSError:
                continue
            self.directory, self.usage_file, self.home = directory, usage, home
            self.method = f"cgroup {directory} ({usage}), less the bench process's own CPU"
            return
        self.method = "getrusage(RUSAGE_CHILDREN): children waited for only"

    def _usage(self) -> float:
        assert self.directory is not None
        text = (self.directory / self.usage_file).read_text()
        if self.usage_file == "cpuacct.usage":
            return int(text) / 1e9
        fields = dict(line.split() for line in text.splitlines())
        return int(fields["usage_usec"]) / 1e6

    @contextlib.contextmanager
    def measure(self, into: dict[str, float]) -> Iterator[None]:
        """Run the block in the cgroup; `into["operator"]` gets its CPU-seconds."""
        own = _self_seconds()
        if self.directory is None or self.home is None:
            children = _children_seconds()
            try:
                yield
            finally:
                into["operator"] = _children_seconds() - children
            return
        before = self._usage()
        (self.directory / "cgroup.procs").write_text(str(os.getpid()))
        try:
            yield
        finally:
            (self.home / "cgroup.procs").write_text(str(os.getpid()))
            into["operator"] = max(0.0, self._usage() - before - (_self_seconds() - own))

    def stop(self) -> None:
        """Move what is left (processes a tool left running) back and remove the cgroup."""
        if self.directory is None or self.home is None:
            return
        with contextlib.suppress(OSError):
            for pid in (self.directory / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (self.home / "cgroup.procs").write_text(pid)
            self.directory.rmdir()
        self.directory = None


def delta(before: dict[str, float], after: dict[str, float]) -> float:
    """CPU-seconds the hosts used between two samples (hosts present in both)."""
    return sum(after[name] - before[name] for name in before.keys() & after.keys())
