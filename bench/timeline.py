"""Where the time between a deploy's end and a working federation goes: per service, from the
hosts' own records (epoch seconds, the same clock as the bench's, all hosts share this machine):

- `created`: the service's CreatedAt on the leader (when the tool's service create landed);
- `task_created`: the first task's CreatedAt (the orchestrator made it);
- `pulled`: the `pull` image event on the task's host (the image came from the lab registry;
  absent when the host already had it);
- `container_created`, `started`: the container's `create` and `start` events on that host;
- `running`: the task's status timestamp once it is running (the agent reported it to the
  manager);
- `tasks`: how many tasks the service has had (more than one: a task failed and the restart
  policy, 5 s delay, made another).
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from bench.spec import Federation
from tests.lab import Lab

PHASES = ("created", "task_created", "pulled", "container_created", "started", "running")


def epoch(text: str) -> float:
    """Docker's RFC 3339 with nanoseconds -> epoch seconds."""
    match = re.match(r"(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        raise ValueError(text)
    base, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(base + zone).timestamp() + float(fraction or 0)


def collect(lab: Lab, federation: Federation, since: float) -> dict[str, dict[str, float]]:
    """Phase times (epoch) per service name, for tasks created after `since`. Call it a second
    or more after the last event wanted (host events are read up to the last whole second)."""
    until = int(time.time())
    out: dict[str, dict[str, float]] = {}
    index = {n.hostname: i for i, n in enumerate(federation.nodes, start=1)}
    node_of: dict[str, str] = {}
    leader = lab.docker(1)
    try:
        api = leader.api
        names = {n["ID"]: n["Description"]["Hostname"] for n in api.nodes()}
        services = {s["ID"]: s for s in api.services()}
        for service in services.values():
            name = service["Spec"]["Name"]
            out[name] = {"created": epoch(service["CreatedAt"])}
        for task in sorted(api.tasks(), key=lambda t: t["CreatedAt"]):
            service = services.get(task["ServiceID"])
            if service is None:
                continue
            name = service["Spec"]["Name"]
            entry = out[name]
            entry.setdefault("task_created", epoch(task["CreatedAt"]))
            entry["tasks"] = entry.get("tasks", 0) + 1  # more than 1: a task failed, restarted
            if task["Status"]["State"] == "running" and "running" not in entry:
                entry["running"] = epoch(task["Status"]["Timestamp"])
            node_of.setdefault(name, names.get(task.get("NodeID", ""), ""))
    finally:
        leader.close()
    for hostname, i in index.items():
        client = lab.docker(i)
        try:
            events = client.api.events(since=int(since), until=until, decode=True)
            _events(events, hostname, node_of, out, since)
        except Exception as error:  # a host that does not answer just has no events
            out.setdefault("_errors", {})[hostname] = 0.0
            del error
        finally:
            client.close()
    return out


def _events(
    events: Any,
    hostname: str,
    node_of: dict[str, str],
    out: dict[str, dict[str, float]],
    since: float,
) -> None:
    pulled: float | None = None
    for event in events:
        when = event.get("timeNano", 0) / 1e9
        if when < since:
            continue
        kind, action = event.get("Type"), event.get("Action")
        if kind == "image" and action == "pull":
            pulled = when if pulled is None else min(pulled, when)
        if kind != "container" or action not in ("create", "start"):
            continue
        attrs = (event.get("Actor") or {}).get("Attributes") or {}
        name = attrs.get("com.docker.swarm.service.name")
        if name not in out or node_of.get(name) != hostname:
            continue
        key = "container_created" if action == "create" else "started"
        out[name].setdefault(key, when)
        if pulled is not None:
            out[name].setdefault("pulled", pulled)


def relative(phases: dict[str, dict[str, float]], start: float) -> dict[str, dict[str, float]]:
    return {
        name: {k: round(v - start, 3) for k, v in entry.items()} for name, entry in phases.items()
    }
