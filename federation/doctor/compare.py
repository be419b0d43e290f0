"""Comparing: the expected state (the stack's settings) against the live one, row by row."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from federation.config.images import IMAGE_RE
from federation.config.model import NodeSettings, StackSettings
from federation.doctor.hosts import is_manager
from federation.doctor.model import (
    LOCKED_FIX,
    OBJECT_FIX,
    SERVICE_FIX,
    HostReport,
    Live,
    Row,
    row,
)
from federation.exareme import KEYSTORE_SERVICE, MASTER_SERVICE, worker_service_name
from federation.firewall import expected_rules
from federation.portal import PORTAL_CONTAINER
from federation.probe import PORT, TARGET, Verdict


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


def ordered_nodes(settings: StackSettings) -> list[NodeSettings]:
    """The control manager first, then the other nodes in stack order."""
    control = settings.control_manager
    return [control, *(n for n in settings.nodes if n is not control)]


IN_SWARM = "active, in this swarm"
MAINTENANCE_NODE = "ready, drain (maintenance)"
MAINTENANCE_TASKS = "none running (maintenance)"


def _manager_ids(live: Live) -> set[str]:
    return {str(n.get("ID")) for n in live.nodes if n.get("Spec", {}).get("Role") == "manager"}


def swarm_row(
    node: NodeSettings, report: HostReport, live: Live, found: dict[str, Any] | None
) -> Row:
    """The node's own view (`docker info` on it) against the control manager's and the stack's:
    active, in the same swarm (cluster id on a manager, its managers' node ids on a worker), as
    the node id the control manager lists for it."""
    if report.refused:
        return Row("swarm", node.name, IN_SWARM, report.note.removeprefix("host: "), "ERROR")
    state = report.state
    if not state:
        return row("swarm", node.name, IN_SWARM, report.note.removeprefix("host: "))
    if state == "locked":
        return row("swarm", node.name, IN_SWARM, "locked", fix=LOCKED_FIX)
    if state != "active":
        actual = {
            "inactive": "inactive (left the swarm)",
            "pending": "pending (joining)",
        }.get(state, state)
        if report.error:
            actual += f": {report.error}"
        return row("swarm", node.name, IN_SWARM, actual)
    cluster = str((live.swarm.get("Cluster") or {}).get("ID") or "")
    if report.cluster_id and cluster:
        same_swarm = report.cluster_id == cluster
    else:
        same_swarm = bool(set(report.managers) & _manager_ids(live))
    if not same_swarm:
        where = f"cluster {report.cluster_id[:12]}" if report.cluster_id else "other managers"
        return row(
            "swarm",
            node.name,
            IN_SWARM,
            f"active in another swarm ({where}) as node {report.node_id[:12]}",
        )
    listed = str(found.get("ID")) if found is not None else ""
    if report.node_id != listed:
        lists = f"lists it as {listed[:12]}" if listed else "does not list it"
        return row(
            "swarm",
            node.name,
            IN_SWARM,
            f"active in this swarm as node {report.node_id[:12]}; the control manager {lists}",
        )
    return row("swarm", node.name, IN_SWARM, IN_SWARM)


def _node_rows(
    nodes: list[NodeSettings],
    live: Live,
    matched: dict[str, dict[str, Any]],
    reports: dict[str, HostReport],
) -> list[Row]:
    rows = []
    control = nodes[0]
    for node in nodes:
        found = matched.get(node.name)
        report = reports.get(node.name)
        not_ready = found is None or _state(found) != "ready"
        probed = report if report is not None and not_ready and node is not control else None
        note = f"; {probed.note}" if probed else ""
        # A node in maintenance is drained on purpose (nodes[i].maintenance): not drift.
        expected = MAINTENANCE_NODE if node.maintenance else "ready, active"
        if found is None:
            actual = "missing"
        else:
            availability = str(found.get("Spec", {}).get("Availability", "unknown"))
            actual = f"{_state(found)}, {availability}"
            if node.maintenance and availability == "drain":
                actual += " (maintenance)"
            if node_addr(found) != _addr(node.swarm_addr):
                actual += f" at {node_addr(found)} (not {node.swarm_addr})"
        rows.append(row("node", node.name, expected, actual + note))
        if probed is not None and probed.refused:  # its host key is not trusted: cannot tell
            rows[-1] = Row("node", node.name, expected, actual + note, "ERROR")
        if report is not None and node is not control:
            rows.append(swarm_row(node, report, live, found))
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
    expected = "overlay, swarm"
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
    leader = settings.leader
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
        if node.maintenance:
            # Drained: swarm stops the task and keeps the service's next one pending.
            ok = not any(_task_state(t) == "running" for t in tasks)
            expected_tasks = MAINTENANCE_TASKS
        else:
            ok = (
                len(tasks) == 1
                and _task_state(tasks[0]) == "running"
                and tasks[0].get("NodeID") == node_id
            )
            expected_tasks = f"1 running on {node.name}"
        rows.append(row("tasks", name, expected_tasks, _describe_tasks(tasks, where), ok))
    known = {name for name, _, _ in expected}
    for name in sorted(by_name):
        if name.startswith("exareme-") and name not in known:
            rows.append(row("extra service", name, "absent", "present"))
    return rows


def _portal_rows(settings: StackSettings, live: Live) -> list[Row]:
    portal = settings.portal
    found = live.portal[0] if live.portal else None
    if live.portal_unread:
        expected = "running" if portal.enabled else "absent"
        return [row("portal", PORTAL_CONTAINER, expected, f"unknown: {live.portal_unread}", False)]
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


FIREWALL_FIX = (
    "lost (a host reboot flushes it) or changed by hand: re-apply it with pulumi up --replace "
    "the query-port-firewall command's URN (pulumi stack --show-urns); docs/security.md"
)


def _firewall_rows(settings: StackSettings, live: Live) -> list[Row]:
    """The master's query port on the leader: closed but to the portal and exareme.allowFrom."""
    exareme = settings.exareme
    subject = f"{settings.leader.name}:{exareme.port}"
    expected = "closed but to the portal" + "".join(f", {s}" for s in exareme.allow_from)
    if live.firewall_unread:
        return [row("query port", subject, expected, f"unknown: {live.firewall_unread}", False)]
    if live.firewall is None:
        return []
    found = list(live.firewall)
    unread = [line.removeprefix("unread ") for line in found if line.startswith("unread ")]
    if unread:
        return [row("query port", subject, expected, f"unknown: {unread[0]}", False)]
    wanted = expected_rules(exareme.port, exareme.allow_from, ipv6="6 inactive" not in found)
    if found == wanted:
        return [row("query port", subject, expected, expected)]
    rules = [line for line in found if " -A " in line]
    actual = (
        "open: no rule"
        if not rules
        else "rules differ: " + "; ".join(line for line in found if line not in wanted)
    )
    return [row("query port", subject, expected, actual, False, fix=FIREWALL_FIX)]


def compare(
    settings: StackSettings, live: Live, reports: dict[str, HostReport] | None = None
) -> list[Row]:
    """Every check, in a fixed order: swarm, nodes (the control manager first, then stack order,
    then extra nodes; each with what the node itself says, where `reports` has it), network,
    services (keystore, master, workers in stack order, then extra services), portal."""
    control = settings.control_manager
    swarm = live.swarm
    state = str(swarm.get("LocalNodeState", "unknown"))
    actual = (
        ("active, manager" if is_manager(swarm) else "active, worker")
        if state == "active"
        else state
    )
    role = "leader" if control is settings.leader else "control manager"
    fix = LOCKED_FIX if state == "locked" else ""
    rows = [row("swarm", f"{control.name} ({role})", "active, manager", actual, fix=fix)]
    if not is_manager(swarm):
        return rows
    nodes = ordered_nodes(settings)
    matched = match_nodes(nodes, live.nodes, swarm.get("NodeID"))
    rows += _node_rows(nodes, live, matched, reports or {})
    rows += _network_rows(settings, live)
    rows += _service_rows(settings, live, matched)
    rows += _portal_rows(settings, live)
    rows += _firewall_rows(settings, live)
    return rows


def probe_rows(
    settings: StackSettings, verdicts: dict[str, Verdict], skipped: dict[str, str]
) -> list[Row]:
    """`--probe`: per node in stack order, whether the overlay carries its traffic to the
    leader's side, else the likely port or protocol (probe_verdict.sh's message)."""
    expected = f"reaches {TARGET}:{PORT} over {settings.network.name}"
    rows = []
    for node in settings.nodes:
        verdict = verdicts.get(node.name)
        if node.name in skipped:
            actual, ok = f"not probed: {skipped[node.name]}", False
        elif verdict is None:
            actual, ok = "no verdict", False
        else:
            actual, ok = verdict.message, verdict.status == "ok"
        rows.append(row("probe", node.name, expected, actual, ok))
    return rows
