"""What the hosts say: the swarm, its labels, the network and the services, read straight from
each host's dockerd socket (no SSH, so checking never competes with the tool being measured).

`observe` returns a plain, tool-independent dict; `expected` builds the same dict from the
spec; `differences` lists where they disagree. Two tools reached the same end state when both
observations equal the expected one.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import docker

from bench.spec import EXAREME_PORT, NETWORK, NETWORK_GATEWAY, NETWORK_SUBNET, RESTART, Federation
from tests.lab import Lab

NS = 1_000_000_000


@contextmanager
def _client(lab: Lab, index: int) -> Iterator[docker.DockerClient]:
    client = lab.docker(index)
    try:
        yield client
    finally:
        client.close()


def _duration_ns(text: str) -> int:
    return int(text.removesuffix("s")) * NS


def _service_state(spec: dict[str, Any], network_names: dict[str, str]) -> dict[str, Any]:
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    restart = task.get("RestartPolicy") or {}
    endpoint = spec.get("EndpointSpec") or {}
    networks = task.get("Networks") or spec.get("Networks") or []
    env = dict(item.split("=", 1) for item in container.get("Env") or [])
    return {
        "image": str(container.get("Image", "")).split("@", 1)[0],
        "args": list(container.get("Args") or []),
        "command": list(container.get("Command") or []),
        "env": env,
        "constraints": sorted(
            c.replace(" ", "") for c in (task.get("Placement") or {}).get("Constraints") or []
        ),
        "restart": {
            "condition": restart.get("Condition"),
            "delay": restart.get("Delay"),
            # Docker leaves out what is 0 (no limit, no window) depending on the client.
            "max_attempts": restart.get("MaxAttempts") or 0,
            "window": restart.get("Window") or 0,
        },
        "endpoint_mode": endpoint.get("Mode", "vip"),
        "ports": sorted(
            (p.get("PublishedPort"), p.get("TargetPort"), p.get("PublishMode"))
            for p in endpoint.get("Ports") or []
        ),
        "networks": sorted(
            (network_names.get(n.get("Target", ""), n.get("Target")), tuple(n.get("Aliases") or []))
            for n in networks
        ),
    }


def observe(lab: Lab, federation: Federation) -> dict[str, Any]:
    """The federation as the leader's dockerd reports it, plus each host's swarm state."""
    hosts = {n.hostname: i for i, n in enumerate(federation.nodes, start=1)}
    local = {}
    for hostname, index in hosts.items():
        with _client(lab, index) as client:
            local[hostname] = client.info()["Swarm"]["LocalNodeState"]
    state: dict[str, Any] = {"local": local, "nodes": {}, "network": None, "services": {}}
    if local[federation.leader.hostname] != "active":
        return state
    with _client(lab, hosts[federation.leader.hostname]) as client:
        api = client.api
        for node in api.nodes():
            state["nodes"][node["Description"]["Hostname"]] = {
                "role": node["Spec"]["Role"],
                "name": (node["Spec"].get("Labels") or {}).get("name"),
                "state": node["Status"]["State"],
            }
        networks = {n["Id"]: n["Name"] for n in api.networks()}
        if NETWORK in networks.values():
            info = api.inspect_network(NETWORK)
            ipam = ((info.get("IPAM") or {}).get("Config") or [{}])[0]
            state["network"] = {
                "driver": info["Driver"],
                "scope": info["Scope"],
                "attachable": info.get("Attachable", False),
                "encrypted": "encrypted" in (info.get("Options") or {}),
                "subnet": ipam.get("Subnet"),
                "gateway": ipam.get("Gateway"),
            }
        node_names = {n["ID"]: n["Description"]["Hostname"] for n in api.nodes()}
        running: dict[str, list[str]] = {}
        for task in api.tasks(filters={"desired-state": "running"}):
            if task["Status"]["State"] == "running":
                running.setdefault(task["ServiceID"], []).append(
                    node_names.get(task["NodeID"], "?")
                )
        for service in api.services():
            entry = _service_state(service["Spec"], networks)
            entry["running_on"] = sorted(running.get(service["ID"], []))
            state["services"][service["Spec"]["Name"]] = entry
    return state


def expected(federation: Federation) -> dict[str, Any]:
    """What observe() returns once the federation is deployed and every task runs."""
    services = {}
    for s in federation.services:
        services[s.name] = {
            "image": s.image,
            "args": list(s.args),
            "command": list(s.command),
            "env": dict(s.env),
            "constraints": sorted(c.replace(" ", "") for c in s.constraints),
            "restart": {
                "condition": RESTART["condition"],
                "delay": _duration_ns(str(RESTART["delay"])),
                "max_attempts": RESTART["max_attempts"],
                "window": _duration_ns(str(RESTART["window"])),
            },
            "endpoint_mode": "dnsrr",
            "ports": [(s.port, s.port, "host")] if s.port else [],
            "networks": [(NETWORK, (s.name,))],
            "running_on": [s.node.hostname],
        }
    return {
        "local": {n.hostname: "active" for n in federation.nodes},
        "nodes": {
            n.hostname: {"role": n.role, "name": n.alias, "state": "ready"}
            for n in federation.nodes
        },
        "network": {
            "driver": "overlay",
            "scope": "swarm",
            "attachable": not federation.trust_boundary,
            "encrypted": False,
            "subnet": NETWORK_SUBNET,
            "gateway": NETWORK_GATEWAY,
        },
        "services": services,
    }


def differences(observed: Any, wanted: Any, path: str = "") -> list[str]:
    """Human-readable paths where observed differs from wanted."""
    if isinstance(observed, dict) and isinstance(wanted, dict):
        out = []
        for key in sorted(set(observed) | set(wanted), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in observed:
                out.append(f"{where}: missing")
            elif key not in wanted:
                out.append(f"{where}: unexpected")
            else:
                out += differences(observed[key], wanted[key], where)
        return out
    if _plain(observed) != _plain(wanted):
        return [f"{path}: {observed!r} != {wanted!r}"]
    return []


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def exareme_check() -> Any:
    """tests/lab/exareme_check.py (stand-ins that behave like Exareme), or None before it
    exists: then "working" is the end state alone."""
    try:
        return importlib.import_module("tests.lab.exareme_check")
    except ImportError:
        return None


def definition() -> str:
    """Which "working" the bench applies, for the report."""
    if exareme_check() is None:
        return "end state (every task running on its node)"
    return "end state, and the master reports every hospital's worker reachable"


def master_problems(
    lab: Lab, federation: Federation, latest: Callable[[], Any] | None = None
) -> list[str]:
    """[] once the master (with tests/lab/exareme_check.py) answers with every hospital's worker
    reachable; one request, refused until the master listens (or `latest()`: the last answer a
    poller running anyway got). Otherwise what is missing, named."""
    check = exareme_check()
    hospitals = [n.alias for n in federation.workers]
    if check is None:
        return []
    # The portal is not part of the compared end state (a container outside the swarm that
    # (b) and (c) do not deploy): the master's own answer is asked, not the portal's.
    answer = latest() if latest is not None else check.master_answer(lab, 1, EXAREME_PORT)
    if answer is None:
        return [f"the master does not answer (of {len(hospitals)} workers)"]
    if check.reports_all(answer, hospitals):
        return []
    unreachable = sorted(set(hospitals) - check.reachable_workers(answer))
    shown = ", ".join(unreachable[:10]) + (" ..." if len(unreachable) > 10 else "")
    return [
        f"the master does not report {len(unreachable)} of {len(hospitals)} workers "
        f"reachable: {shown}"
    ]


def wait_working(
    lab: Lab,
    federation: Federation,
    timeout: float = 120.0,
    interval: float = 0.2,
    latest: Callable[[], Any] | None = None,
) -> tuple[float, list[str]]:
    """Poll until the federation works: the master's answer, then the expected end state (every
    task running on its node). Returns (monotonic time it was first seen, what still differs if
    it timed out).

    The end state is read only once the master reports every worker: it reads every host's
    dockerd (31 `info` calls and the leader's nodes, tasks and services at 1+29), load that a
    poll every 0.2 s put on the lab's CPUs during the very bootstrap it times. `latest`: the
    master's last answer from a poller that runs anyway (bench/availability.py), instead of a
    request of its own."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = master_problems(lab, federation, latest)
        if not waiting or time.monotonic() > deadline:
            problems = waiting + differences(observe(lab, federation), expected(federation))
            if not problems or time.monotonic() > deadline:
                return time.monotonic(), problems
        time.sleep(interval)


def torn_down(lab: Lab, federation: Federation) -> list[str]:
    """Hosts still in a swarm after a teardown."""
    problems = []
    for index, node in enumerate(federation.nodes, start=1):
        with _client(lab, index) as client:
            state = client.info()["Swarm"]["LocalNodeState"]
        if state != "inactive":
            problems.append(f"{node.hostname}: swarm state {state}")
    return problems
