"""A projection of each tool's deploy to independent machines over a WAN (bench/method.md,
"Projection"): every step takes its uncontended duration, measured one at a time on the lab, plus
RTT x its round trips; the program's steps run as its dependency graph and `--parallel` allow,
the manual procedure's one after the other, Ansible's task by task with `forks` hosts at once.

A model, not a measurement: the round-trip counts are its parameters (`Wan`).
"""

from __future__ import annotations

import heapq
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

COMMAND = "command:remote:Command"
PROVIDER_PREFIX = "pulumi:providers:"


@dataclass(frozen=True)
class Step:
    name: str
    duration: float
    deps: tuple[str, ...] = ()


def _check(steps: Sequence[Step]) -> dict[str, Step]:
    by_name = {s.name: s for s in steps}
    if len(by_name) != len(steps):
        raise ValueError("step names repeat")
    for s in steps:
        unknown = [d for d in s.deps if d not in by_name]
        if unknown:
            raise ValueError(f"{s.name} depends on unknown steps {unknown}")
    return by_name


def critical_path(steps: Sequence[Step]) -> tuple[float, list[str]]:
    """The DAG's floor: the longest chain of durations (unlimited parallelism), and that chain."""
    by_name = _check(steps)
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    visiting: set[str] = set()

    def end(name: str) -> float:
        if name in finish:
            return finish[name]
        if name in visiting:
            raise ValueError(f"dependency cycle through {name}")
        visiting.add(name)
        step = by_name[name]
        before = max(step.deps, key=end, default=None)
        finish[name] = (end(before) if before else 0.0) + step.duration
        via[name] = before
        visiting.discard(name)
        return finish[name]

    if not steps:
        return 0.0, []
    last = max((s.name for s in steps), key=end)
    chain: list[str] = []
    at: str | None = last
    while at is not None:
        chain.append(at)
        at = via[at]
    return finish[last], chain[::-1]


def makespan(steps: Sequence[Step], parallel: int | None = None) -> float:
    """Seconds until every step ended when at most `parallel` run at once (None: unlimited) and
    a free slot goes to the first ready step in the given (registration) order."""
    _check(steps)
    limit = parallel or len(steps) or 1
    pending = list(steps)
    done: set[str] = set()
    running: list[tuple[float, int, str]] = []
    now = 0.0
    while pending or running:
        for step in list(pending):
            if len(running) >= limit:
                break
            if all(d in done for d in step.deps):
                heapq.heappush(running, (now + step.duration, len(done) + len(running), step.name))
                pending.remove(step)
        if not running:
            raise ValueError(f"dependency cycle among {[s.name for s in pending]}")
        now, _, name = heapq.heappop(running)
        done.add(name)
        while running and running[0][0] <= now:
            done.add(heapq.heappop(running)[2])
    return now


@dataclass(frozen=True)
class Wan:
    """The WAN model: RTT and the round trips each kind of exchange costs (model parameters)."""

    rtt: float = 0.030
    # A new SSH connection with one exec: TCP handshake, version + KEXINIT, key exchange,
    # NEWKEYS + service request, publickey query and signed auth, channel open, exec.
    ssh_session: int = 8
    # One Docker API request on an open connection (the docker provider keeps its ssh tunnel).
    docker_call: int = 1
    # A `docker swarm join` from the worker to the manager: TCP, TLS, CSR, certificate.
    swarm_join: int = 4
    # Ansible without pipelining, per task and host over its ControlMaster: mkdir of the temp
    # dir, module upload, chmod, exec, rm; each a multiplexed session (channel open + exec).
    ansible_task: int = 10
    docker_calls: Mapping[str, int] = field(
        default_factory=lambda: {
            "docker:index/network:Network": 2,  # create, inspect
            "docker:index/service:Service": 3,  # create, inspect, the task read
            "docker:index/container:Container": 3,
        }
    )

    def seconds(self, round_trips: float) -> float:
        return self.rtt * round_trips


def kind(name: str, aliases: Iterable[str]) -> str:
    """A step's kind: its name with a hospital's alias replaced by '*' (join-hosp3 -> join-*)."""
    for alias in sorted(aliases, key=len, reverse=True):
        pattern = rf"(?<![A-Za-z0-9]){re.escape(alias)}(?![A-Za-z0-9])"
        if re.search(pattern, name):
            return re.sub(pattern, "*", name)
    return name


def kind_durations(durations: Mapping[str, float], aliases: Iterable[str]) -> dict[str, float]:
    """Median measured duration per step kind."""
    grouped: dict[str, list[float]] = {}
    for name, seconds in durations.items():
        grouped.setdefault(kind(name, aliases), []).append(seconds)
    return {k: statistics.median(v) for k, v in grouped.items()}


def _program_rtts(name: str, type_: str, wan: Wan) -> float:
    if type_ == COMMAND:
        return wan.ssh_session + (wan.swarm_join if name.startswith("join-") else 0)
    return float(wan.docker_calls.get(type_, 0) * wan.docker_call)


@dataclass(frozen=True)
class Node:
    """One resource of the program's graph (from its evaluation under mocks)."""

    name: str
    type: str
    deps: tuple[str, ...]


def program_steps(
    graph: Sequence[Node],
    measured: Mapping[str, float],
    aliases: Iterable[str],
    wan: Wan,
    graph_aliases: Iterable[str] = (),
) -> tuple[list[Step], list[str]]:
    """The program's steps at its graph's size: durations by kind from `measured` (whose
    hospitals are `aliases`; the graph's are `graph_aliases`), plus WAN.
    The first Docker step of each provider also opens its ssh tunnel. Returns the steps and the
    kinds that were not measured (their steps count 0 s plus WAN)."""
    by_kind = kind_durations(measured, aliases)
    names = {n.name for n in graph}
    providers_ = {n.name for n in graph if n.type.startswith(PROVIDER_PREFIX)}
    tunnels: set[str] = set()
    steps, missing = [], []
    graph_aliases = list(graph_aliases)
    for node in graph:
        k = kind(node.name, graph_aliases)
        if k not in by_kind and not node.type.startswith(PROVIDER_PREFIX):
            missing.append(k)
        rtts = _program_rtts(node.name, node.type, wan)
        providers = [d for d in node.deps if d in providers_]
        if node.type.startswith("docker:") and providers and providers[0] not in tunnels:
            tunnels.add(providers[0])
            rtts += wan.ssh_session
        deps = tuple(d for d in node.deps if d in names)
        steps.append(Step(node.name, by_kind.get(k, 0.0) + wan.seconds(rtts), deps))
    return steps, sorted(set(missing))


def manual_seconds(
    measured: Mapping[str, float], aliases: Iterable[str], workers: int, fixed: float, wan: Wan
) -> float:
    """The 2018 procedure at `workers`: its steps one after the other, each one ssh connection
    (joins also talk to the manager), plus `fixed` (the unlogged token fetch and the script)."""
    by_kind = kind_durations(measured, aliases)
    counts = {
        "init": 1,
        "join-*": workers,
        "label-hub": 1,
        "label-*": workers,
        "network": 1,
        "service-exareme-keystore": 1,
        "service-exareme-master": 1,
        "service-exareme-worker-*": workers,
    }
    total = fixed + wan.seconds(wan.ssh_session)  # the join token
    for k, n in counts.items():
        rtts = wan.ssh_session + (wan.swarm_join if k == "join-*" else 0)
        total += n * (by_kind.get(k, by_kind.get("label-*", 0.0)) + wan.seconds(rtts))
    return total


# deploy.yml, task by task: (task name, hosts it runs on or items of its loop on the manager)
ANSIBLE_TASKS = (
    ("Initialise the swarm", "manager"),
    ("Join the swarm", "workers"),
    ("Label every node with its name", "loop-nodes"),
    ("Overlay network", "manager"),
    ("Keystore", "manager"),
    ("Master", "manager"),
    ("One worker per hospital", "loop-workers"),
)


def ansible_seconds(
    tasks: Mapping[str, float],
    measured_workers: int,
    measured_forks: int,
    workers: int,
    forks: int,
    fixed: float,
    wan: Wan,
) -> float:
    """deploy.yml at `workers` with `forks`: a task ends when its last host does. From the
    measured run: a task over the workers took its time per batch of `measured_forks` hosts
    (hosts in a batch ran at once), a loop on the manager its time per item."""
    total = fixed + wan.seconds(wan.ssh_session * (workers + 1))  # each host's ControlMaster
    for name, where in ANSIBLE_TASKS:
        seconds = tasks.get(name, 0.0)
        per_task = wan.seconds(
            wan.ansible_task + (wan.swarm_join if name.startswith("Join") else 0)
        )
        if where == "workers":
            batch = seconds / math.ceil(measured_workers / measured_forks)
            total += math.ceil(workers / forks) * (batch + per_task)
        elif where.startswith("loop"):
            measured_items = measured_workers + (1 if where == "loop-nodes" else 0)
            items = workers + (1 if where == "loop-nodes" else 0)
            total += items * (seconds / max(measured_items, 1) + per_task)
        else:
            total += seconds + per_task
    return total
