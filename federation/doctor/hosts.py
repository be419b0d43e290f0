"""Reading the hosts: the leader's view of the swarm, and what a node says about itself."""

from __future__ import annotations

import json
import shlex
from typing import Any

from federation.config import NodeSettings
from federation.doctor.model import DoctorError, Live, Probe
from federation.doctor.ssh import Access, Connection, SshError, connect
from federation.portal import PORTAL_CONTAINER


def _inspect_all(list_command: str, inspect_command: str) -> str:
    """Inspect every object the list command prints (a JSON list, `[]` when there is none)."""
    return (
        f"ids=$({list_command}) || exit $?; "
        f"if [ -n \"$ids\" ]; then {inspect_command} $ids; else echo '[]'; fi"
    )


SWARM_COMMAND = "docker info --format '{{json .Swarm}}'"
LEADER_COMMANDS = {
    "nodes": _inspect_all("docker node ls -q", "docker node inspect"),
    "networks": _inspect_all("docker network ls -q --no-trunc", "docker network inspect"),
    "services": _inspect_all("docker service ls -q", "docker service inspect"),
    "tasks": (
        "services=$(docker service ls -q) || exit $?; "
        "if [ -z \"$services\" ]; then echo '[]'; exit 0; fi; "
        + _inspect_all(
            "docker service ps -q --no-trunc --filter desired-state=running $services",
            "docker inspect --type task",
        )
    ),
    "portal": _inspect_all(
        "docker ps -aq --no-trunc --filter " + shlex.quote(f"name=^/?{PORTAL_CONTAINER}$"),
        "docker container inspect",
    ),
}


def _read_json(connection: Connection, what: str, command: str, attempts: int = 2) -> Any:
    """The JSON a command prints; tried twice, as an object may vanish between `ls` and
    `inspect` while someone changes the swarm."""
    result = connection.run(command)
    for _ in range(attempts - 1):
        if result.code == 0:
            break
        result = connection.run(command)
    if result.code != 0:
        message = (result.stderr.strip() or result.stdout.strip())[:500]
        raise DoctorError(
            f"{connection.where}: reading the {what} failed (exit {result.code}): {message}"
        )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        raise DoctorError(
            f"{connection.where}: reading the {what} printed no JSON: {result.stdout[:200]!r}"
        ) from None


def is_manager(swarm: dict[str, Any]) -> bool:
    return swarm.get("LocalNodeState") == "active" and swarm.get("ControlAvailable") is True


def read_live(connection: Connection) -> Live:
    swarm = _read_json(connection, "swarm state", SWARM_COMMAND, attempts=1)
    if not isinstance(swarm, dict):
        raise DoctorError(f"{connection.where}: unexpected `docker info` output")
    if not is_manager(swarm):
        return Live(swarm, [], [], [], [], [])
    found = {
        name: _read_json(connection, name, command) for name, command in LEADER_COMMANDS.items()
    }
    return Live(swarm=swarm, **found)


def probe(node: NodeSettings, access: Access) -> Probe:
    """Ask the host itself whether it is in a swarm (read-only `docker info`)."""
    try:
        with connect(node, access) as connection:
            result = connection.run(SWARM_COMMAND)
    except SshError as error:
        return Probe(f"host: {error.reason}", refused=error.refused)
    if result.code != 0:
        if "permission denied" in result.stderr.lower():
            return Probe(f"host: Docker refuses {access.ssh.user} (permission denied)")
        return Probe("host: Docker daemon not answering")
    try:
        swarm = json.loads(result.stdout)
    except json.JSONDecodeError:
        return Probe("host: unexpected `docker info` output")
    state = swarm.get("LocalNodeState")
    if state == "inactive":
        return Probe("host left the swarm")
    if state == "active":
        return Probe(f"host: in a swarm as node {swarm.get('NodeID', '?')}")
    return Probe(f"host: swarm state {state}")
