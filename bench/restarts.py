"""What a change restarted, from the leader's dockerd (its unix socket): the services that got a
new task since the change began, and when the master's container was switched (the old one
stopped, the new one started), epoch seconds on this machine's clock."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.spec import MASTER
from bench.timeline import epoch
from tests.lab import Lab

UNSET = "0001-01-01T00:00:00Z"  # Docker's zero time: a container that never stopped


def new_tasks(tasks: Iterable[dict[str, Any]], services: dict[str, str], since: float) -> list[str]:
    """Names of the services with a task created at or after `since` (epoch seconds)."""
    return sorted(
        {
            services.get(t["ServiceID"], t["ServiceID"])
            for t in tasks
            if epoch(t["CreatedAt"]) >= since
        }
    )


def restarted(lab: Lab, since: float, existing: Iterable[str]) -> list[str]:
    """The services of `existing` (names) that got a new task since `since`."""
    client = lab.docker(1)
    try:
        services = {s["ID"]: s["Spec"]["Name"] for s in client.api.services()}
        created = new_tasks(client.api.tasks(), services, since)
    finally:
        client.close()
    return [name for name in created if name in set(existing)]


def switch(containers: Iterable[dict[str, Any]], since: float) -> tuple[float, float] | None:
    """(the old container's stop, the first new container's start) among a service's containers
    (`docker inspect` documents), both at or after `since`; None if no new one started or no
    old one stopped since."""
    old_stops, new_starts = [], []
    for c in containers:
        state = c["State"]
        if epoch(c["Created"]) >= since:
            if state.get("StartedAt", UNSET) != UNSET:
                new_starts.append(epoch(state["StartedAt"]))
        elif state.get("FinishedAt", UNSET) != UNSET and epoch(state["FinishedAt"]) >= since:
            old_stops.append(epoch(state["FinishedAt"]))
    if not old_stops or not new_starts:
        return None
    return max(old_stops), min(new_starts)


def master_switch(lab: Lab, since: float) -> tuple[float, float] | None:
    """`switch` of the master's containers on the leader."""
    client = lab.docker(1)
    try:
        found = client.api.containers(
            all=True, filters={"label": f"com.docker.swarm.service.name={MASTER}"}
        )
        documents = [client.api.inspect_container(c["Id"]) for c in found]
    finally:
        client.close()
    return switch(documents, since)
