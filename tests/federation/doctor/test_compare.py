"""The drift report's comparison, on canned `docker ... inspect` outputs (no SSH)."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest

from federation import doctor
from federation.doctor import HostReport, Live, Row
from tests.federation.doctor.canned import (
    NODES,
    SERVICES,
    drift,
    in_sync,
    member,
    network,
    node,
    portal,
    service,
    settings,
    task,
)


def test_in_sync_every_check_is_ok_in_a_fixed_order():
    rows = doctor.compare(settings(), in_sync())
    assert {r.status for r in rows} == {"OK"}
    assert doctor.exit_status(rows) == 0
    assert [(r.check, r.subject) for r in rows[:5]] == [
        ("swarm", "chuv (leader)"),
        ("node", "chuv"),
        ("role", "chuv"),
        ("label", "chuv"),
        ("node", "hug"),
    ]
    assert [r.subject for r in rows if r.check == "tasks"] == [name for name, _, _ in SERVICES]
    assert [r.check for r in rows[-5:]] == ["image", "placement", "tasks", "portal", "portal image"]
    lille = next(r for r in rows if r.check == "tasks" and r.subject == "exareme-worker-lille")
    assert (lille.expected, lille.actual) == ("1 running on lille", "1 running on lille")


def test_a_node_is_matched_by_its_advertise_address_not_its_dns_host():
    live = in_sync()
    assert doctor.match_nodes(settings().nodes, live.nodes)["lille"]["ID"] == "id-lille"


def test_missing_label_wrong_role_and_drained_node():
    live = in_sync()
    live.nodes[1]["Spec"]["Labels"] = {}
    live.nodes[1]["Spec"]["Availability"] = "drain"
    live.nodes[2]["Spec"]["Role"] = "manager"
    live.nodes[2]["ManagerStatus"] = {"Reachability": "unreachable"}
    assert drift(live) == [
        Row("node", "hug", "ready, active", "ready, drain", "DRIFT"),
        Row("label", "hug", "name=hug", "(none)", "DRIFT"),
        Row("role", "lille", "worker", "manager (unreachable)", "DRIFT"),
    ]


def in_maintenance(alias: str):
    nodes = [{**n, "maintenance": n["name"] == alias} for n in NODES]
    return settings(nodes=nodes)


def drained(live: Live, index: int) -> Live:
    """Node `index` drained as `docker node update --availability drain` leaves it: its worker's
    task shut down and the next one pending."""
    live.nodes[index]["Spec"]["Availability"] = "drain"
    live.tasks[index + 1]["Status"] = {"State": "shutdown"}
    pending = task(SERVICES[index + 1][0], SERVICES[index + 1][1])
    pending["ID"] += "-next"
    pending["Status"] = {"State": "pending", "Err": "no suitable node"}
    del pending["NodeID"]
    live.tasks.append(pending)
    return live


def test_a_node_in_maintenance_is_reported_as_such_not_as_drift():
    rows = doctor.compare(in_maintenance("hug"), drained(in_sync(), 1))
    assert {r.status for r in rows} == {"OK"}
    hug = {r.check: r for r in rows if r.subject in ("hug", "exareme-worker-hug")}
    assert (hug["node"].expected, hug["node"].actual) == (
        "ready, drain (maintenance)",
        "ready, drain (maintenance)",
    )
    assert hug["tasks"].expected == "none running (maintenance)"
    assert hug["tasks"].actual == "shutdown on hug; pending: no suitable node"


def test_a_node_in_maintenance_that_is_still_active_or_running_is_drift():
    rows = doctor.compare(in_maintenance("hug"), in_sync())
    assert [r for r in rows if r.status != "OK"] == [
        Row("node", "hug", "ready, drain (maintenance)", "ready, active", "DRIFT"),
        Row(
            "tasks",
            "exareme-worker-hug",
            "none running (maintenance)",
            "1 running on hug",
            "DRIFT",
        ),
    ]


def test_a_drained_node_not_in_maintenance_is_drift():
    rows = doctor.compare(settings(), drained(in_sync(), 1))
    assert [(r.check, r.actual) for r in rows if r.status != "OK"] == [
        ("node", "ready, drain"),
        ("tasks", "shutdown on hug; pending: no suitable node"),
    ]


def test_down_node_says_what_its_host_reports_and_its_task_is_not_running():
    live = in_sync()
    live.nodes[1]["Status"]["State"] = "down"
    live.tasks[2]["Status"] = {"State": "pending", "Err": "no suitable node"}
    del live.tasks[2]["NodeID"]
    left = HostReport.from_swarm({"LocalNodeState": "inactive"})
    assert drift(live, hug=left) == [
        Row("node", "hug", "ready, active", "down, active; host left the swarm", "DRIFT"),
        Row("swarm", "hug", "active, in this swarm", "inactive (left the swarm)", "DRIFT"),
        Row(
            "tasks", "exareme-worker-hug", "1 running on hug", "pending: no suitable node", "DRIFT"
        ),
    ]


def test_missing_node_and_extra_nodes_sorted_by_address():
    live = in_sync()
    del live.nodes[2]
    live.nodes.append(node("zz", Description={"Hostname": "b-host"}, Status__Addr="10.0.0.9"))
    live.nodes.append(node("aa", Spec={"Labels": {}, "Role": "worker"}, Status__Addr="10.0.0.5"))
    live.tasks.pop()
    rows = drift(live, lille=HostReport("host: unreachable over SSH (timed out)"))
    assert rows == [
        Row(
            "node",
            "lille",
            "ready, active",
            "missing; host: unreachable over SSH (timed out)",
            "DRIFT",
        ),
        Row("swarm", "lille", "active, in this swarm", "unreachable over SSH (timed out)", "DRIFT"),
        Row("extra node", "host-aa (10.0.0.5)", "absent", "ready, worker, no name label", "DRIFT"),
        Row("extra node", "b-host (10.0.0.9)", "absent", "ready, worker, name=zz", "DRIFT"),
        Row("tasks", "exareme-worker-lille", "1 running on lille", "none running", "DRIFT"),
    ]


def test_host_that_rejoined_is_the_ready_entry_and_its_stale_entry_is_extra():
    live = in_sync()
    stale = node("hug", ID="id-old", Status__State="down")
    live.nodes.insert(1, stale)
    rows = drift(live)
    assert rows == [
        Row("extra node", "host-hug (198.51.100.21)", "absent", "down, worker, name=hug", "DRIFT")
    ]


def test_node_found_by_label_at_another_address():
    live = in_sync()
    live.nodes[1]["Status"]["Addr"] = "198.51.100.99"
    assert drift(live) == [
        Row(
            "node",
            "hug",
            "ready, active",
            "ready, active at 198.51.100.99 (not 198.51.100.21)",
            "DRIFT",
        )
    ]


def test_untrusted_host_key_of_a_node_is_an_error_not_drift():
    live = in_sync()
    live.nodes[1]["Status"]["State"] = "down"
    rows = drift(live, hug=HostReport("host: host key mismatch", refused=True))
    assert rows[:2] == [
        Row("node", "hug", "ready, active", "down, active; host: host key mismatch", "ERROR"),
        Row("swarm", "hug", "active, in this swarm", "host key mismatch", "ERROR"),
    ]
    assert doctor.exit_status(rows) == 2


def test_leader_that_is_not_a_manager_is_one_drift_row():
    live = Live({"LocalNodeState": "inactive", "ControlAvailable": False}, [], [], [], [], [])
    assert doctor.compare(settings(), live) == [
        Row("swarm", "chuv (leader)", "active, manager", "inactive", "DRIFT")
    ]


@pytest.mark.parametrize(
    ("networks", "expected"),
    [
        ([], [Row("network", "mip-federation", "overlay, swarm", "missing", "DRIFT")]),
        (
            [network(), network(Id="net2")],
            [
                Row(
                    "network",
                    "mip-federation",
                    "overlay, swarm",
                    "2 networks with this name",
                    "DRIFT",
                )
            ],
        ),
        (
            [
                network(
                    Options={},
                    Attachable=True,
                    IPAM={"Config": [{"Subnet": "10.20.31.0/24", "Gateway": "10.20.31.1"}]},
                )
            ],
            [
                Row(
                    "network",
                    "mip-federation",
                    "overlay, swarm",
                    "overlay, swarm, attachable",
                    "DRIFT",
                ),
                Row("encryption", "mip-federation", "encrypted", "not encrypted", "DRIFT"),
                Row(
                    "subnet",
                    "mip-federation",
                    "10.20.30.0/24 gateway 10.20.30.254",
                    "10.20.31.0/24 gateway 10.20.31.1",
                    "DRIFT",
                ),
            ],
        ),
    ],
)
def test_network_missing_duplicated_or_changed(networks, expected):
    live = in_sync()
    live.networks[1:] = networks
    assert drift(live) == expected


def test_unencrypted_network_is_in_sync_with_an_unencrypted_stack():
    live = in_sync()
    del live.networks[1]["Options"]["encrypted"]
    rows = doctor.compare(settings(network={"encrypted": False}), live)
    assert {r.status for r in rows} == {"OK"}


def test_service_missing_scaled_moved_reimaged_and_extra():
    live = in_sync()
    live.services[0]["Spec"]["TaskTemplate"]["Placement"]["Constraints"] = [
        "node.role==manager",
        "node.labels.name==hug",
    ]
    live.tasks[0]["Status"] = {"State": "pending", "Err": "no suitable node"}
    del live.tasks[0]["NodeID"]
    live.services[1]["Spec"]["Mode"] = {"Replicated": {"Replicas": 2}}
    live.tasks.append(task("exareme-master", None, "pending", "host-mode port already in use"))
    live.services[2]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "mip-lab/busybox:1"
    del live.services[3]
    live.services.append(service("exareme-worker-old", "old"))
    live.services.append(service("not-ours", "x"))
    assert drift(live) == [
        Row(
            "placement",
            "exareme-keystore",
            "node.role == manager, node.labels.name == chuv",
            "node.role==manager, node.labels.name==hug",
            "DRIFT",
        ),
        Row("tasks", "exareme-keystore", "1 running on chuv", "pending: no suitable node", "DRIFT"),
        Row(
            "service", "exareme-master", "replicated, 1 replica", "replicated, 2 replicas", "DRIFT"
        ),
        Row(
            "tasks",
            "exareme-master",
            "1 running on chuv",
            "1 running on chuv; pending: host-mode port already in use",
            "DRIFT",
        ),
        Row("image", "exareme-worker-hug", "hbpmip/exareme:v5", "mip-lab/busybox:1", "DRIFT"),
        Row("service", "exareme-worker-lille", "replicated, 1 replica", "missing", "DRIFT"),
        Row("extra service", "exareme-worker-old", "absent", "present", "DRIFT"),
    ]


def test_task_on_the_wrong_node_and_global_mode():
    live = in_sync()
    live.tasks[2]["NodeID"] = "id-lille"
    live.services[3]["Spec"]["Mode"] = {"Global": {}}
    live.tasks.append({**task("exareme-worker-lille", "hug"), "ID": "t2"})
    assert drift(live) == [
        Row("tasks", "exareme-worker-hug", "1 running on hug", "1 running on lille", "DRIFT"),
        Row("service", "exareme-worker-lille", "replicated, 1 replica", "global", "DRIFT"),
        Row(
            "tasks",
            "exareme-worker-lille",
            "1 running on lille",
            "2 running on hug, lille",
            "DRIFT",
        ),
    ]


def test_a_constraint_written_without_spaces_or_in_another_order_is_the_same():
    live = in_sync()
    live.services[2]["Spec"]["TaskTemplate"]["Placement"]["Constraints"] = [
        "node.labels.name==hug",
        "node.role  ==  worker",
    ]
    assert drift(live) == []


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ("hbpmip/exareme:v5", "hbpmip/exareme:v5", True),
        ("hbpmip/exareme:v5", "hbpmip/exareme:v5@sha256:" + "a" * 64, True),
        ("hbpmip/exareme:v5", "docker.io/hbpmip/exareme:v5", True),
        ("hbpmip/exareme:v5", "hbpmip/exareme:v6", False),
        ("hbpmip/exareme:v5", "other/exareme:v5", False),
        ("busybox", "docker.io/library/busybox:latest", True),
        ("hbpmip/exareme@sha256:" + "a" * 64, "hbpmip/exareme:v5@sha256:" + "a" * 64, True),
        ("hbpmip/exareme@sha256:" + "a" * 64, "hbpmip/exareme:v5@sha256:" + "b" * 64, False),
        ("registry.example.org:5000/mip/exareme:v5", "mip/exareme:v5", False),
    ],
)
def test_same_image(expected, actual, same):
    assert doctor.same_image(expected, actual) is same


def test_portal_stopped_with_another_image_or_missing():
    live = in_sync()
    live.portal[0] = portal("exited", "hbpmip/portal-backend:2.6.0")
    assert drift(live) == [
        Row("portal", "mip-federation-portal", "running", "exited", "DRIFT"),
        Row(
            "portal image",
            "mip-federation-portal",
            "hbpmip/portal-backend:2.5.4",
            "hbpmip/portal-backend:2.6.0",
            "DRIFT",
        ),
    ]
    live.portal.clear()
    assert drift(live) == [Row("portal", "mip-federation-portal", "running", "missing", "DRIFT")]


def test_a_service_deleted_by_hand_says_how_to_recreate_it(capsys):
    live = in_sync()
    del live.services[3]
    [missing] = drift(live)
    assert missing == Row(
        "service", "exareme-worker-lille", "replicated, 1 replica", "missing", "DRIFT"
    )
    assert "pulumi up --refresh (or pulumi refresh, then pulumi up)" in missing.fix
    assert "plain pulumi up does not notice" in missing.fix
    assert "pulumi destroy fails" in missing.fix
    line = doctor.table([missing]).splitlines()[1]
    assert re.search(r"  missing  DRIFT +fix: ", line) and line.endswith(missing.fix)
    assert doctor.table([missing]).splitlines()[0].endswith("STATUS")


def test_only_drift_rows_carry_a_fix():
    live = in_sync()
    live.networks.pop()
    live.portal.clear()
    rows = doctor.compare(settings(), live)
    fixed = {(r.check, r.subject) for r in rows if r.fix}
    assert fixed == {("network", "mip-federation"), ("portal", "mip-federation-portal")}
    assert all("pulumi up --refresh" in r.fix for r in rows if r.fix)
    assert all(r.status == "DRIFT" for r in rows if r.fix)
    # Rows in sync stay as they were: no fix, the table unchanged.
    assert all(not r.fix for r in doctor.compare(settings(), in_sync()))


def test_json_rows_carry_the_fix():
    live = in_sync()
    del live.services[3]
    [missing] = drift(live)
    assert asdict(missing)["fix"] == missing.fix


def test_disabled_portal_must_be_absent():
    live = in_sync()
    stack = settings(portal={"enabled": False})
    assert doctor.compare(stack, live)[-1] == Row(
        "portal", "mip-federation-portal", "absent", "running", "DRIFT"
    )
    live.portal.clear()
    assert doctor.compare(stack, live)[-1].status == "OK"


def test_every_node_in_this_swarm_as_the_node_the_leader_lists_is_in_sync():
    reports = {"hug": member("hug"), "lille": member("lille")}
    rows = doctor.compare(settings(), in_sync(), reports)
    assert {r.status for r in rows} == {"OK"}
    assert [(r.check, r.subject) for r in rows[1:9]] == [
        ("node", "chuv"),
        ("role", "chuv"),
        ("label", "chuv"),
        ("node", "hug"),
        ("swarm", "hug"),
        ("role", "hug"),
        ("label", "hug"),
        ("node", "lille"),
    ]
    # A manager is matched by its cluster id (a worker has none: by its managers' node ids).
    manager = HostReport.from_swarm(
        {"LocalNodeState": "active", "NodeID": "id-hug", "Cluster": {"ID": "cluster-1"}}
    )
    assert drift(in_sync(), hug=manager) == []


@pytest.mark.parametrize(
    ("report", "actual"),
    [
        # The leader still lists the node ready (until its heartbeat expires): the host knows.
        (member("hug", LocalNodeState="inactive"), "inactive (left the swarm)"),
        (
            member("hug", NodeID="id-other", RemoteManagers=[{"NodeID": "m9", "Addr": "x:2377"}]),
            "active in another swarm (other managers) as node id-other",
        ),
        (
            HostReport.from_swarm(
                {"LocalNodeState": "active", "NodeID": "n2", "Cluster": {"ID": "cluster-9"}}
            ),
            "active in another swarm (cluster cluster-9) as node n2",
        ),
        (
            member("hug", NodeID="id-new"),
            "active in this swarm as node id-new; the control manager lists it as id-hug",
        ),
        (member("hug", LocalNodeState="pending"), "pending (joining)"),
        (
            member("hug", LocalNodeState="error", Error="rpc error: code = Unavailable"),
            "error: rpc error: code = Unavailable",
        ),
        (HostReport("host: Docker daemon not answering"), "Docker daemon not answering"),
    ],
)
def test_what_a_node_says_about_itself_is_reported_at_once(report, actual):
    rows = drift(in_sync(), hug=report, lille=member("lille"))
    assert rows == [Row("swarm", "hug", "active, in this swarm", actual, "DRIFT")]


def test_a_locked_node_says_how_to_unlock_it():
    [locked] = drift(in_sync(), hug=member("hug", LocalNodeState="locked"))
    assert (locked.check, locked.actual, locked.fix) == (
        "swarm",
        "locked",
        "unlock it: see docs/operations.md, Autolock",
    )
    leader = Live({"LocalNodeState": "locked"}, [], [], [], [], [])
    [row] = doctor.compare(settings(), leader)
    assert (row.subject, row.actual, row.status) == ("chuv (leader)", "locked", "DRIFT")
    assert row.fix == "unlock it: see docs/operations.md, Autolock"


def test_the_control_manager_is_read_first_and_named_so():
    nodes = [
        {"name": "chuv", "host": "192.0.2.10", "role": "manager"},
        {"name": "hug", "host": "198.51.100.21", "role": "manager"},
        {"name": "lille", "host": "203.0.113.41", "role": "manager"},
    ]
    stack = settings(nodes=nodes, swarm={"controlManager": "hug"})
    assert stack.control_manager.name == "hug"
    assert [n.name for n in doctor.ordered_nodes(stack)] == ["hug", "chuv", "lille"]
    assert stack.leader.name == "chuv"
    live = Live({"LocalNodeState": "inactive"}, [], [], [], [], [])
    assert doctor.compare(stack, live)[0].subject == "hug (control manager)"
    assert doctor.compare(settings(nodes=nodes), live)[0].subject == "chuv (leader)"
