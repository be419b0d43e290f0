"""What the doctor's parts pass each other: the live state read from the hosts, what a host
says about itself, and the report's rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# WARN: in sync, but needs attention soon (a certificate near its expiry, one not measured).
Status = Literal["OK", "WARN", "DRIFT", "ERROR"]


class DoctorError(Exception):
    """The report cannot be made (bad stack file, leader unreachable): exit status 2."""


@dataclass(frozen=True)
class Row:
    check: str
    subject: str
    expected: str
    actual: str
    status: Status
    fix: str = field(default="", compare=False)
    """What to do about this drift, where the doctor knows; not part of a row's identity."""


# An object Pulumi tracks that was deleted by hand. Pulumi diffs against its state, not the live
# swarm, so a plain `pulumi up` does not notice; refreshing first drops it from the state, and
# the up recreates it.
RECREATE_FIX = "run pulumi up --refresh (or pulumi refresh, then pulumi up) to recreate it"
# The docker provider's delete of a service that is already gone fails, so a replacement or a
# destroy that still has it in the state fails too, until a refresh.
SERVICE_FIX = (
    f"deleted by hand? {RECREATE_FIX}; plain pulumi up does not notice it is gone, and a "
    "replacement or pulumi destroy fails on it until the state is refreshed"
)
# A manager with autolock on starts locked after a restart (`docker swarm unlock`, key on stdin).
LOCKED_FIX = "unlock it: see docs/operations.md, Autolock"
OBJECT_FIX = f"deleted by hand? {RECREATE_FIX}; plain pulumi up does not notice it is gone"


def row(
    check: str, subject: str, expected: str, actual: str, ok: bool | None = None, fix: str = ""
) -> Row:
    """A row that is OK when `ok` (by default: when actual equals expected), else DRIFT."""
    same = actual == expected if ok is None else ok
    return Row(check, subject, expected, actual, "OK" if same else "DRIFT", "" if same else fix)


@dataclass(frozen=True)
class Live:
    """What the control manager reports (`docker info` .Swarm and the inspect JSON of every swarm
    object), and the portal container as the leader's engine reports it; `portal_unread` says why
    the portal could not be read (the leader unreachable), "" when it was. `firewall`: the query
    port's firewall as scripts/firewall_check.sh prints it on the leader (None: not read), and
    `firewall_unread` why it could not be read."""

    swarm: dict[str, Any]
    nodes: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    services: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    portal: list[dict[str, Any]] = field(default_factory=list)
    portal_unread: str = ""
    firewall: tuple[str, ...] | None = None
    firewall_unread: str = ""


@dataclass(frozen=True)
class HostReport:
    """What a host says about itself (`docker info` on the host, over its own SSH connection).

    `note` is for the node's row when the leader sees it missing or not ready; `state` is
    Swarm.LocalNodeState ("" when the host could not be asked), `cluster_id` is known on managers
    only, `managers` are the node ids of the managers a node talks to (RemoteManagers)."""

    note: str
    refused: bool = False
    state: str = ""
    node_id: str = ""
    cluster_id: str = ""
    managers: tuple[str, ...] = ()
    error: str = ""

    @classmethod
    def from_swarm(cls, swarm: dict[str, Any]) -> HostReport:
        state = str(swarm.get("LocalNodeState") or "")
        if state == "inactive":
            note = "host left the swarm"
        elif state == "active":
            note = f"host: in a swarm as node {swarm.get('NodeID') or '?'}"
        else:
            note = f"host: swarm state {state or 'unknown'}"
        return cls(
            note=note,
            state=state or "unknown",
            node_id=str(swarm.get("NodeID") or ""),
            cluster_id=str((swarm.get("Cluster") or {}).get("ID") or ""),
            managers=tuple(
                str(m.get("NodeID")) for m in swarm.get("RemoteManagers") or [] if m.get("NodeID")
            ),
            error=str(swarm.get("Error") or ""),
        )
