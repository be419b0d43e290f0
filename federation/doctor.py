"""Drift report: compare the live swarm with a stack's configuration, read-only over SSH.

    python -m federation.doctor STACK [--stack-file FILE] [--key FILE] [--json] [--drift-only]

`pulumi refresh` cannot see drift behind remote commands (roles, labels, membership), so this
reads the federation as it is: it connects to the leader (the first manager) and runs only
`docker info`, `docker node|network|service ... ls/inspect/ps` and `docker inspect` there, and
asks a node itself (`docker info`) only when the leader sees it missing or not ready, to tell
"left the swarm" from "dockerd down" from "unreachable". It never changes anything on a host.

Expected state comes from `Pulumi.STACK.yaml` (namespace mip-federation), validated by
federation.config. Secrets are not needed: a `secure:` sshPrivateKey means "use --key FILE or
the SSH agent". Exit status: 0 in sync, 1 drift, 2 error (bad config, leader unreachable, a check
that could not be made).
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import paramiko
import yaml

from federation.config import (
    IMAGE_RE,
    NAMESPACE,
    ConfigError,
    NodeSettings,
    SshSettings,
    StackSettings,
    validate,
)
from federation.exareme import KEYSTORE_SERVICE, MASTER_SERVICE, worker_service_name
from federation.portal import PORTAL_CONTAINER
from federation.ssh import host_port

Status = Literal["OK", "DRIFT", "ERROR"]
DEFAULT_TIMEOUT = 10.0
UNDECRYPTED = "[secure value: the doctor does not decrypt it]"
STACK_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


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
OBJECT_FIX = f"deleted by hand? {RECREATE_FIX}; plain pulumi up does not notice it is gone"


def row(
    check: str, subject: str, expected: str, actual: str, ok: bool | None = None, fix: str = ""
) -> Row:
    """A row that is OK when `ok` (by default: when actual equals expected), else DRIFT."""
    same = actual == expected if ok is None else ok
    return Row(check, subject, expected, actual, "OK" if same else "DRIFT", "" if same else fix)


# --- the stack file ------------------------------------------------------------------------------


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def _mask_secure(value: Any) -> Any:
    """`{secure: ...}` values replaced by a placeholder string: the doctor never decrypts."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return UNDECRYPTED
        return {k: _mask_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v) for v in value]
    return value


def read_stack(path: Path, stack: str, key_file: str | None = None) -> StackSettings:
    """The validated settings of a stack file. `key_file` (--key) replaces ssh.privateKeyFile."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise DoctorError(f"cannot read the stack file {path}: {error}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise DoctorError(f"{path}: no `config:` block")
    raw: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for full_key, value in config.items():
        namespace, _, key = str(full_key).rpartition(":")
        if namespace not in ("", NAMESPACE):
            continue
        if _has_secure(value):
            secret_keys.add(key)
            value = _mask_secure(value)
        raw[key] = value
    ssh = raw.get("ssh")
    if key_file is not None and isinstance(ssh, dict) and "privateKeyFile" in ssh:
        raw["ssh"] = {**ssh, "privateKeyFile": key_file}
    try:
        return validate(raw, stack, secret_keys)
    except ConfigError as error:
        raise DoctorError(f"{path}: {error}") from None


# --- SSH -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """How the doctor logs in: the stack's user and port, a key file and/or the SSH agent."""

    ssh: SshSettings
    key_file: str | None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


class SshError(Exception):
    """A host could not be reached or logged in to; `refused` when its host key is not trusted."""

    def __init__(self, where: str, reason: str, refused: bool = False) -> None:
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.refused = refused


class _UntrustedKey(Exception):
    pass


class _UnknownHostKey(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        raise _UntrustedKey(
            f"host key {key.get_name()} {key.get_base64()} is neither pinned (nodes[].hostKey) "
            "nor in ~/.ssh/known_hosts; refusing to connect"
        )


class Connection:
    """One SSH connection to a node; `run` opens a channel per read-only command."""

    def __init__(self, node: NodeSettings, access: Access) -> None:
        self.node = node
        self.access = access
        self.where = f"{node.name} ({host_port(node.host, access.ssh.port)})"
        self.client = paramiko.SSHClient()

    def open(self) -> None:
        node, access, client = self.node, self.access, self.client
        if node.host_key:
            kind, data = node.host_key.split()[:2]
            try:
                key = paramiko.PKey.from_type_string(kind, base64.b64decode(data))
            except (paramiko.SSHException, ValueError) as error:
                raise SshError(self.where, f"cannot use the pinned host key: {error}") from None
            port = access.ssh.port
            client.get_host_keys().add(
                node.host if port == 22 else f"[{node.host}]:{port}", kind, key
            )
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(_UnknownHostKey())
        try:
            client.connect(
                node.host,
                port=access.ssh.port,
                username=access.ssh.user,
                key_filename=access.key_file,
                allow_agent=True,
                look_for_keys=False,
                timeout=access.timeout,
                banner_timeout=access.timeout,
                auth_timeout=access.timeout,
                channel_timeout=access.timeout,
            )
        except _UntrustedKey as error:
            raise SshError(self.where, str(error), refused=True) from None
        except paramiko.BadHostKeyException as error:
            raise SshError(
                self.where,
                f"host key mismatch: the host presents {error.key.get_name()} "
                f"{error.key.get_base64()}, the stack pins {node.host_key}; refusing to connect",
                refused=True,
            ) from None
        except paramiko.AuthenticationException as error:
            raise SshError(
                self.where,
                f"authentication as {access.ssh.user} failed ({error}); give --key FILE, set "
                "ssh.privateKeyFile, or add the key to the SSH agent (ssh-add)",
            ) from None
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise SshError(self.where, f"unreachable over SSH ({_reason(error)})") from None

    def run(self, command: str) -> Result:
        try:
            _, stdout, stderr = self.client.exec_command(command, timeout=self.access.timeout)
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            channel = stdout.channel
            if not channel.status_event.wait(self.access.timeout):
                raise TimeoutError("no exit status")
            return Result(channel.recv_exit_status(), out, err)
        except (OSError, paramiko.SSHException) as error:
            raise SshError(self.where, f"`{command}` failed ({_reason(error)})") from None

    def close(self) -> None:
        self.client.close()


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


@contextmanager
def connect(node: NodeSettings, access: Access) -> Iterator[Connection]:
    connection = Connection(node, access)
    try:
        connection.open()
        yield connection
    finally:
        connection.close()


# --- reading the live state ----------------------------------------------------------------------


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


@dataclass(frozen=True)
class Live:
    """What the leader reports: `docker info` .Swarm and the inspect JSON of every object."""

    swarm: dict[str, Any]
    nodes: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    services: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    portal: list[dict[str, Any]]


@dataclass(frozen=True)
class Probe:
    """What a host says about itself, for a node the leader sees missing or not ready."""

    note: str
    refused: bool = False


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


# --- comparison ----------------------------------------------------------------------------------


def _addr(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return value


def node_addr(node: dict[str, Any]) -> str:
    """The address a swarm node is known by (Status.Addr, else its manager address)."""
    addr = str(node.get("Status", {}).get("Addr") or "")
    if addr in ("", "0.0.0.0"):  # noqa: S104 (reported by a manager before Docker 18.06)
        manager_addr = str((node.get("ManagerStatus") or {}).get("Addr") or "")
        addr = manager_addr.rpartition(":")[0] or addr
    return _addr(addr)


def _label(node: dict[str, Any]) -> str | None:
    labels = node.get("Spec", {}).get("Labels") or {}
    value = labels.get("name")
    return str(value) if value is not None else None


def _state(node: dict[str, Any]) -> str:
    return str(node.get("Status", {}).get("State", "unknown"))


def _hostname(node: dict[str, Any]) -> str:
    return str(node.get("Description", {}).get("Hostname") or node.get("ID", "?")[:12])


def match_nodes(
    nodes: Sequence[NodeSettings], live: Sequence[dict[str, Any]], leader_id: str | None = None
) -> dict[str, dict[str, Any]]:
    """Stack node name -> the swarm node that is it: the leader by its node id, the others by
    address (Status.Addr is advertiseAddr or host), else by `name` label. Among several
    candidates (a host that left and joined again), a ready one with the right label wins."""
    matched: dict[str, dict[str, Any]] = {}
    used: set[str] = set()

    def take(node: NodeSettings, found: list[dict[str, Any]]) -> None:
        found = [n for n in found if n.get("ID") not in used]
        if found:
            best = min(
                found,
                key=lambda n: (_state(n) != "ready", _label(n) != node.name, str(n.get("ID"))),
            )
            matched[node.name] = best
            used.add(str(best.get("ID")))

    if nodes and leader_id:
        take(nodes[0], [n for n in live if n.get("ID") == leader_id])
    for node in nodes:
        if node.name not in matched:
            take(node, [n for n in live if node_addr(n) == _addr(node.swarm_addr)])
    for node in nodes:
        if node.name not in matched:
            take(node, [n for n in live if _label(n) == node.name])
    return matched


def leader_of(settings: StackSettings) -> NodeSettings:
    return next(n for n in settings.nodes if n.role == "manager")


def _ordered_nodes(settings: StackSettings) -> list[NodeSettings]:
    """The leader first, then the other nodes in stack order."""
    leader = leader_of(settings)
    return [leader, *(n for n in settings.nodes if n is not leader)]


def needs_probe(settings: StackSettings, live: Live) -> list[NodeSettings]:
    """The nodes, other than the leader, the leader sees missing or not ready."""
    nodes = _ordered_nodes(settings)
    matched = match_nodes(nodes, live.nodes, live.swarm.get("NodeID"))
    return [n for n in nodes[1:] if n.name not in matched or _state(matched[n.name]) != "ready"]


def _node_rows(
    nodes: list[NodeSettings],
    live: Live,
    matched: dict[str, dict[str, Any]],
    probes: dict[str, Probe],
) -> list[Row]:
    rows = []
    for node in nodes:
        found = matched.get(node.name)
        probed = probes.get(node.name)
        note = f"; {probed.note}" if probed else ""
        if found is None:
            actual = "missing"
        else:
            actual = f"{_state(found)}, {found.get('Spec', {}).get('Availability', 'unknown')}"
            if node_addr(found) != _addr(node.swarm_addr):
                actual += f" at {node_addr(found)} (not {node.swarm_addr})"
        rows.append(row("node", node.name, "ready, active", actual + note))
        if probed is not None and probed.refused:  # its host key is not trusted: cannot tell
            rows[-1] = Row("node", node.name, "ready, active", actual + note, "ERROR")
        if found is None:
            continue
        role = str(found.get("Spec", {}).get("Role", "unknown"))
        reachability = (found.get("ManagerStatus") or {}).get("Reachability")
        if role == "manager" and reachability not in (None, "reachable"):
            role += f" ({reachability})"
        rows.append(row("role", node.name, node.role, role))
        label = _label(found)
        rows.append(
            row(
                "label",
                node.name,
                f"name={node.name}",
                "(none)" if label is None else f"name={label}",
            )
        )
    used = {str(n.get("ID")) for n in matched.values()}
    extras = sorted(
        (n for n in live.nodes if str(n.get("ID")) not in used),
        key=lambda n: (node_addr(n), _hostname(n), str(n.get("ID"))),
    )
    for extra in extras:
        label = _label(extra)
        actual = f"{_state(extra)}, {extra.get('Spec', {}).get('Role', 'unknown')}, " + (
            f"name={label}" if label is not None else "no name label"
        )
        rows.append(row("extra node", f"{_hostname(extra)} ({node_addr(extra)})", "absent", actual))
    return rows


def _network_rows(settings: StackSettings, live: Live) -> list[Row]:
    net = settings.network
    found = [n for n in live.networks if n.get("Name") == net.name]
    expected = "overlay, swarm, attachable"
    if not found:
        return [row("network", net.name, expected, "missing", fix=OBJECT_FIX)]
    if len(found) > 1:
        return [row("network", net.name, expected, f"{len(found)} networks with this name")]
    network = found[0]
    actual = f"{network.get('Driver')}, {network.get('Scope')}"
    if network.get("Attachable"):
        actual += ", attachable"
    encrypted = "encrypted" in (network.get("Options") or {})
    configs = (network.get("IPAM") or {}).get("Config") or []
    subnets = "; ".join(f"{c.get('Subnet')} gateway {c.get('Gateway') or '-'}" for c in configs)
    return [
        row("network", net.name, expected, actual),
        row(
            "encryption",
            net.name,
            "encrypted" if net.encrypted else "not encrypted",
            "encrypted" if encrypted else "not encrypted",
        ),
        row("subnet", net.name, f"{net.subnet} gateway {net.gateway}", subnets or "(none)"),
    ]


def _image_parts(image: str) -> tuple[str, str | None, str | None]:
    match = IMAGE_RE.match(image)
    if match is None:
        return image, None, None
    name = match.group("path")
    domain = match.group("domain")
    if domain and domain not in ("docker.io", "index.docker.io"):
        name = f"{domain}/{name}"
    name = name.removeprefix("library/")
    return name, match.group("tag"), match.group("digest")


def same_image(expected: str, actual: str) -> bool:
    """Whether `actual` (as Docker stores it, maybe with a resolved @digest) is `expected`."""
    name, tag, digest = _image_parts(expected)
    live_name, live_tag, live_digest = _image_parts(actual)
    if digest:
        return digest == live_digest and name == live_name and tag in (None, live_tag)
    return name == live_name and (tag or "latest") == (live_tag or "latest")


def _constraint(text: str) -> str:
    return re.sub(r"\s*(==|!=)\s*", r" \1 ", text.strip())


def _describe_tasks(tasks: list[dict[str, Any]], where: Callable[[str], str]) -> str:
    running = sorted(where(str(t.get("NodeID"))) for t in tasks if _task_state(t) == "running")
    parts = [f"{len(running)} running on {', '.join(running)}"] if running else []
    for task in sorted(tasks, key=lambda t: (str(t.get("Slot", "")), str(t.get("ID")))):
        state = _task_state(task)
        if state == "running":
            continue
        text = state + (f" on {where(str(task['NodeID']))}" if task.get("NodeID") else "")
        error = str(task.get("Status", {}).get("Err") or "")
        parts.append(text + (f": {error}" if error else ""))
    return "; ".join(parts) or "none running"


def _task_state(task: dict[str, Any]) -> str:
    return str(task.get("Status", {}).get("State", "unknown"))


def _service_rows(
    settings: StackSettings,
    live: Live,
    matched: dict[str, dict[str, Any]],
) -> list[Row]:
    leader = leader_of(settings)
    exareme = settings.exareme
    expected = [
        (KEYSTORE_SERVICE, leader, exareme.keystore_image),
        (MASTER_SERVICE, leader, exareme.image),
        *(
            (worker_service_name(n.name), n, exareme.image)
            for n in settings.nodes
            if n is not leader
        ),
    ]
    by_name = {str(s.get("Spec", {}).get("Name")): s for s in live.services}
    alias = {str(n.get("ID")): name for name, n in matched.items()}
    hostnames = {str(n.get("ID")): _hostname(n) for n in live.nodes}

    def where(node_id: str) -> str:
        return alias.get(node_id) or hostnames.get(node_id) or node_id[:12]

    rows = []
    for name, node, image in expected:
        service = by_name.get(name)
        if service is None:
            rows.append(row("service", name, "replicated, 1 replica", "missing", fix=SERVICE_FIX))
            continue
        spec = service.get("Spec", {})
        mode = spec.get("Mode") or {}
        if "Replicated" in mode:
            replicas = (mode["Replicated"] or {}).get("Replicas", 1)
            shape = f"replicated, {replicas} replica{'s' if replicas != 1 else ''}"
        else:
            shape = ", ".join(k.lower() for k in mode) or "unknown mode"
        rows.append(row("service", name, "replicated, 1 replica", shape))
        task_template = spec.get("TaskTemplate") or {}
        live_image = str((task_template.get("ContainerSpec") or {}).get("Image", ""))
        rows.append(row("image", name, image, live_image, same_image(image, live_image)))
        want = [f"node.role == {node.role}", f"node.labels.name == {node.name}"]
        have = list((task_template.get("Placement") or {}).get("Constraints") or [])
        same = sorted(map(_constraint, have)) == sorted(want)
        rows.append(row("placement", name, ", ".join(want), ", ".join(have) or "(none)", same))
        tasks = [t for t in live.tasks if t.get("ServiceID") == service.get("ID")]
        node_id = str(matched[node.name].get("ID")) if node.name in matched else None
        ok = (
            len(tasks) == 1
            and _task_state(tasks[0]) == "running"
            and tasks[0].get("NodeID") == node_id
        )
        rows.append(
            row("tasks", name, f"1 running on {node.name}", _describe_tasks(tasks, where), ok)
        )
    known = {name for name, _, _ in expected}
    for name in sorted(by_name):
        if name.startswith("exareme-") and name not in known:
            rows.append(row("extra service", name, "absent", "present"))
    return rows


def _portal_rows(settings: StackSettings, live: Live) -> list[Row]:
    portal = settings.portal
    found = live.portal[0] if live.portal else None
    if not portal.enabled:
        actual = "absent" if found is None else str(found.get("State", {}).get("Status"))
        return [row("portal", PORTAL_CONTAINER, "absent", actual)]
    if found is None:
        return [row("portal", PORTAL_CONTAINER, "running", "missing", fix=OBJECT_FIX)]
    image = str(found.get("Config", {}).get("Image", ""))
    return [
        row("portal", PORTAL_CONTAINER, "running", str(found.get("State", {}).get("Status"))),
        row("portal image", PORTAL_CONTAINER, portal.image, image, same_image(portal.image, image)),
    ]


def compare(
    settings: StackSettings, live: Live, probes: dict[str, Probe] | None = None
) -> list[Row]:
    """Every check, in a fixed order: swarm, nodes (leader first, then stack order, then extra
    nodes), network, services (keystore, master, workers in stack order, then extra services),
    portal."""
    leader = leader_of(settings)
    swarm = live.swarm
    state = str(swarm.get("LocalNodeState", "unknown"))
    actual = (
        ("active, manager" if is_manager(swarm) else "active, worker")
        if state == "active"
        else state
    )
    rows = [row("swarm", f"{leader.name} (leader)", "active, manager", actual)]
    if not is_manager(swarm):
        return rows
    nodes = _ordered_nodes(settings)
    matched = match_nodes(nodes, live.nodes, swarm.get("NodeID"))
    rows += _node_rows(nodes, live, matched, probes or {})
    rows += _network_rows(settings, live)
    rows += _service_rows(settings, live, matched)
    rows += _portal_rows(settings, live)
    return rows


def diagnose(settings: StackSettings, access: Access) -> list[Row]:
    """Read the federation (read-only) and compare it with the settings."""
    leader = leader_of(settings)
    try:
        with connect(leader, access) as connection:
            live = read_live(connection)
    except SshError as error:
        raise DoctorError(f"cannot read the swarm from the leader: {error}") from None
    todo = needs_probe(settings, live) if is_manager(live.swarm) else []
    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = dict(
            zip((n.name for n in todo), pool.map(lambda n: probe(n, access), todo), strict=True)
        )
    return compare(settings, live, probes)


# --- output --------------------------------------------------------------------------------------

HEADER = ("CHECK", "SUBJECT", "EXPECTED", "ACTUAL", "STATUS")
VERDICTS = {0: "IN SYNC", 1: "DRIFT", 2: "ERROR"}


def exit_status(rows: Sequence[Row]) -> int:
    statuses = {r.status for r in rows}
    return 2 if "ERROR" in statuses else 1 if "DRIFT" in statuses else 0


def summary(stack: str, rows: Sequence[Row]) -> str:
    counts = {s: sum(r.status == s for r in rows) for s in ("OK", "DRIFT", "ERROR")}
    verdict = VERDICTS[exit_status(rows)]
    return (
        f"stack {stack}: {verdict}: {len(rows)} checks, {counts['OK']} OK, "
        f"{counts['DRIFT']} drift, {counts['ERROR']} error"
    )


def table(rows: Sequence[Row]) -> str:
    """One line per row; a row's fix, when it has one, follows its status on the same line."""
    lines = [HEADER, *((r.check, r.subject, r.expected, r.actual, r.status) for r in rows)]
    fixes = ["", *(r.fix for r in rows)]
    columns = len(HEADER) if any(fixes) else len(HEADER) - 1
    widths = [max(len(line[i]) for line in lines) for i in range(columns)]
    return "\n".join(
        (
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
            + ("" if columns == len(HEADER) else "  " + line[-1])
            + (f"  fix: {fix}" if fix else "")
        ).rstrip()
        for line, fix in zip(lines, fixes, strict=True)
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m federation.doctor",
        description="Compare the live federation swarm with a stack's configuration (read-only).",
        epilog="Exit status: 0 in sync, 1 drift, 2 error.",
    )
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument(
        "--stack-file", type=Path, help="the stack file (default Pulumi.STACK.yaml)"
    )
    parser.add_argument(
        "--key", help="SSH private key file (else ssh.privateKeyFile, and the agent)"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per SSH step"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--drift-only", action="store_true", help="list only rows that are not OK")
    return parser


def report(
    stack: str, stack_file: Path | None, key: str | None, timeout: float = DEFAULT_TIMEOUT
) -> tuple[str, list[Row]]:
    """The short stack name and the report rows; DoctorError when no report can be made."""
    short = stack.rpartition("/")[2]
    if not STACK_NAME_RE.match(short):
        raise DoctorError(f"{stack!r} is not a stack name")
    if not 0 < timeout <= 300:
        raise DoctorError(f"--timeout {timeout}: give seconds between 0 and 300")
    if key is not None and not os.path.isfile(os.path.expanduser(key)):
        raise DoctorError(f"--key {key}: no such file")
    settings = read_stack(stack_file or Path(f"Pulumi.{short}.yaml"), short, key)
    key_file = key or settings.ssh.private_key_file
    access = Access(settings.ssh, os.path.expanduser(key_file) if key_file else None, timeout)
    return short, diagnose(settings, access)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        stack, rows = report(args.stack, args.stack_file, args.key, args.timeout)
    except DoctorError as error:
        if args.json:
            print(
                json.dumps(
                    {"stack": args.stack, "status": "ERROR", "error": str(error), "rows": []}
                )
            )
        print(f"doctor: {error}", file=sys.stderr)
        return 2
    code = exit_status(rows)
    if args.json:
        document = {
            "stack": stack,
            "status": VERDICTS[code],
            "summary": summary(stack, rows),
            "rows": [asdict(r) for r in rows],
        }
        print(json.dumps(document, indent=2))
        return code
    shown = [r for r in rows if r.status != "OK"] if args.drift_only else rows
    if shown:
        print(table(shown))
    print(summary(stack, rows))
    return code


if __name__ == "__main__":
    sys.exit(main())
