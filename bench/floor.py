"""The floor of a deploy: what the unavoidable steps cost in that very run.

floor = swarm init + the slowest single join + one label + network create + the slowest service
create. "One label" is the median of that run's label steps. For (a) the parts come from the
engine double's operations log (start/end of every resource step), for (c) from the manual
script's step log, where each step ran alone (an uncontended floor).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SERVICE_TYPE = "docker:index/service:Service"


@dataclass(frozen=True)
class Floor:
    init: float
    join: float  # slowest join
    label: float  # median label
    network: float
    service: float  # slowest service create

    @property
    def total(self) -> float:
        return self.init + self.join + self.label + self.network + self.service


def _pick(durations: dict[str, float], prefix: str) -> list[float]:
    return [d for name, d in durations.items() if name.startswith(prefix)]


def _floor(durations: dict[str, float], init: str, join: str, label: str, network: str) -> Floor:
    joins, labels = _pick(durations, join), _pick(durations, label)
    services = _pick(durations, "service:")
    return Floor(
        init=durations[init],
        join=max(joins, default=0.0),
        label=statistics.median(labels),
        network=durations[network],
        service=max(services),
    )


def from_operations(operations: Iterable[dict[str, Any]]) -> Floor | None:
    """From the engine double's operations of one deploy (create steps)."""
    durations: dict[str, float] = {}
    for op in operations:
        if op["op"] != "create" or op["status"] != "ok":
            continue
        name = f"service:{op['name']}" if op["type"] == SERVICE_TYPE else op["name"]
        durations[name] = float(op["duration"])
    try:
        return _floor(durations, "swarm-init", "join-", "node-", "overlay-network")
    except (KeyError, ValueError, statistics.StatisticsError):
        return None


def from_steps(steps: dict[str, float]) -> Floor | None:
    """From the manual script's step log (names as bench/manual/deploy.sh writes them)."""
    durations = {
        (f"service:{k.removeprefix('service-')}" if k.startswith("service-") else k): v
        for k, v in steps.items()
    }
    try:
        return _floor(durations, "init", "join-", "label-", "network")
    except (KeyError, ValueError, statistics.StatisticsError):
        return None


def span(operations: Iterable[dict[str, Any]]) -> float | None:
    """Seconds from the first step's start to the last step's end (the engine's own time)."""
    ops = [o for o in operations if o["op"] != "same"]
    if not ops:
        return None
    start = min(datetime.fromisoformat(o["start"]) for o in ops)
    end = max(datetime.fromisoformat(o["end"]) for o in ops)
    return (end - start).total_seconds()


@dataclass(frozen=True)
class AddFloor:
    """What adding one hospital cannot avoid: its join, its label, its worker service and, for a
    tool that updates it (EXA_WORKERS_WAIT), the master's update; each measured in that run. The
    program leaves the master alone after the first bootstrap (issue 21): `master` is None."""

    join: float
    label: float
    service: float
    master: float | None = None

    @property
    def total(self) -> float:
        return self.join + self.label + self.service + (self.master or 0.0)


def add_from_operations(operations: Iterable[dict[str, Any]], alias: str) -> AddFloor | None:
    """From the engine double's operations of the deploy that added `alias`."""
    durations = {
        op["name"]: float(op["duration"])
        for op in operations
        if op["status"] == "ok" and op["op"] in ("create", "update")
    }
    try:
        return AddFloor(
            join=durations[f"join-{alias}"],
            label=durations[f"node-{alias}"],
            service=durations[f"exareme-worker-{alias}"],
            master=durations.get("exareme-master"),
        )
    except KeyError:
        return None


def add_from_steps(steps: dict[str, float], alias: str) -> AddFloor | None:
    """From bench/manual/add.sh's step log."""
    try:
        return AddFloor(
            join=steps[f"join-{alias}"],
            label=steps[f"label-{alias}"],
            service=steps[f"service-exareme-worker-{alias}"],
            master=steps["master-update"],
        )
    except KeyError:
        return None
