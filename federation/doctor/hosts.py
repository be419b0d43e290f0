"""Reading the hosts: the leader's view of the swarm, and what a node says about itself."""

from __future__ import annotations

import json
import shlex
from typing import Any

from federation.config.model import NodeSettings, StackSettings
from federation.doctor.model import DoctorError, HostReport, Live
from federation.doctor.ssh import Connection, SshError
from federation.firewall import check_script
from federation.portal import PORTAL_CONTAINER
from federation.probe import Verdict, parse_verdict, probe_script, verdict_script
from federation.scripts import render


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
}
# The portal is a container outside the swarm on the leader's engine (where the program's
# portal-docker provider puts it), not necessarily on the control manager.
PORTAL_COMMAND = _inspect_all(
    "docker ps -aq --no-trunc --filter " + shlex.quote(f"name=^/?{PORTAL_CONTAINER}$"),
    "docker container inspect",
)


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
        return Live(swarm, [], [], [], [])
    found = {
        name: _read_json(connection, name, command) for name, command in LEADER_COMMANDS.items()
    }
    return Live(swarm=swarm, **found)


def read_portal(connection: Connection) -> list[dict[str, Any]]:
    """The portal container's inspect JSON on the leader's engine (`[]` when there is none)."""
    found = _read_json(connection, "portal container", PORTAL_COMMAND)
    return found if isinstance(found, list) else []


def read_firewall(connection: Connection) -> tuple[str, ...]:
    """The query port's firewall on the leader, as scripts/firewall_check.sh prints it."""
    result = connection.run(check_script(), what="firewall_check.sh")
    if result.code != 0:
        message = (result.stderr.strip() or f"exit {result.code}")[:300]
        return (f"unread firewall_check.sh failed: {message}",)
    return tuple(line.strip() for line in result.stdout.splitlines() if line.strip())


def ask_host(connection: Connection, user: str) -> HostReport:
    """What the host says about itself: its swarm state, node id, cluster (read-only)."""
    result = connection.run(SWARM_COMMAND)
    if result.code != 0:
        if "permission denied" in result.stderr.lower():
            return HostReport(f"host: Docker refuses {user} (permission denied)")
        return HostReport("host: Docker daemon not answering")
    try:
        swarm = json.loads(result.stdout)
    except json.JSONDecodeError:
        return HostReport("host: unexpected `docker info` output")
    if not isinstance(swarm, dict):
        return HostReport("host: unexpected `docker info` output")
    return HostReport.from_swarm(swarm)


# node_certificate.sh: the node's swarm certificate (public), read where swarmkit keeps it.
CERTIFICATE_COMMAND = render("node_certificate")


def read_certificate(connection: Connection) -> str:
    """node_certificate.sh's output on this node: the PEM, `absent FILE` or `unread REASON`."""
    result = connection.run(CERTIFICATE_COMMAND, what="node_certificate.sh")
    if result.code != 0:
        reason = (result.stderr.strip() or f"exit {result.code}")[:300]
        return f"unread node_certificate.sh failed: {reason}"
    return result.stdout


def unreachable(error: SshError) -> HostReport:
    return HostReport(f"host: {error.reason}", refused=error.refused)


# --- the data-plane probe (--probe) -----------------------------------------------------------

# Seconds the probe's SSH reads may wait beyond its deadline (docker run, a pull of the image).
PROBE_SLACK = 60.0


def run_probe(
    connection: Connection, settings: StackSettings, leader: NodeSettings, deadline: int
) -> str:
    """probe.sh on this node: its `NODE ADDR STAGE DETAIL` line (it removes its container)."""
    script = probe_script(
        connection.node, settings.network, settings.exareme.keystore_image, deadline, leader
    )
    result = connection.run(script, timeout=deadline + PROBE_SLACK, what="probe.sh")
    lines = [line for line in result.stdout.splitlines() if line.startswith(connection.node.name)]
    if lines:
        return lines[-1]
    reason = (result.stderr.strip() or f"exit {result.code}").splitlines()[-1][:300]
    return f"{connection.node.name} - run {reason}"


def run_verdict(
    connection: Connection, settings: StackSettings, lines: list[str]
) -> dict[str, Verdict]:
    """probe_verdict.sh on the leader: every node's line classified with its gossip peers."""
    script = verdict_script(connection.node, settings.network, lines)
    result = connection.run(script, timeout=30.0, what="probe_verdict.sh")
    return parse_verdict(result.stdout)
