"""The drift report against a federation deployed into the lab, with drift made on the hosts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import doctor
from federation.doctor import Row
from tests.e2e.conftest import sh, wait_for
from tests.program import ROOT

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern", "zurich"]
# Below the ~3 s after which Linux gives up resolving a cut host's address (EHOSTUNREACH), so a
# cut host always reads "timed out".
TIMEOUT = 2.0
IN_SWARM = "active, in this swarm"
NOT_SATISFIED = "pending: no suitable node (scheduling constraints not satisfied on {} nodes)"


def write_stack(lab, path: Path, secure_key: bool = False, leader_key: str | None = None) -> Path:
    """Pulumi.e2e.yaml for NAMES on hosts 1-4: encrypted network, the lab's key file (or a
    `secure:` sshPrivateKey the doctor cannot decrypt), optionally a wrong pinned key for chuv."""
    document = lab.stack_config(NAMES, encrypted=True)
    config: dict[str, Any] = document["config"]
    if secure_key:
        del config["mip-federation:ssh"]["privateKeyFile"]
        config["mip-federation:sshPrivateKey"] = {"secure": "v1:AAAAAAAAAAAAAAAA"}
    if leader_key:
        config["mip-federation:nodes"][0]["hostKey"] = leader_key
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def deploy(federation) -> None:
    names_config = federation.config(NAMES, encrypted=True)
    result = federation.deploy(names_config)
    # This kernel has no ESP: an encrypted overlay carries nothing across hosts, and the deploy's
    # data-plane probes (its last resources, federation/probe.py) fail on the other nodes; every
    # other resource is created.
    assert {name for name, _ in result.errors} <= {f"probe-{n}" for n in NAMES[1:]}, result.errors


def drift(stack_file: Path) -> list[Row]:
    _, rows = doctor.report("e2e", stack_file, None, TIMEOUT)
    return [r for r in rows if r.status != "OK"]


def settle(stack_file: Path, expected: list[Row], timeout: float = 60) -> None:
    """Wait until the report's rows that are not OK are exactly `expected` (the swarm takes a
    few seconds to see a node down or to reschedule a task)."""
    deadline = time.monotonic() + timeout
    rows = drift(stack_file)
    while rows != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = drift(stack_file)
    assert rows == expected


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "federation.doctor", "e2e", "--timeout", str(TIMEOUT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def swarm_versions(lab) -> str:
    """Versions of every swarm object and the portal container's start time, on the leader."""
    return sh(
        lab,
        1,
        "docker node inspect --format '{{.ID}} {{.Version.Index}}' $(docker node ls -q); "
        "docker service inspect --format '{{.ID}} {{.Version.Index}}' $(docker service ls -q); "
        "docker network inspect --format '{{.Id}} {{.Created}}' mip-federation; "
        "docker inspect --format '{{.Id}} {{.State.StartedAt}}' mip-federation-portal",
    )


def test_in_sync_then_labels_roles_extra_node_services_and_portal_drift(federation, tmp_path):
    lab = federation.lab
    deploy(federation)
    stack_file = write_stack(lab, tmp_path / "Pulumi.e2e.yaml")
    before = swarm_versions(lab)

    # In sync: the table, exit 0.
    report = cli("--stack-file", str(stack_file))
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[0].split() == ["CHECK", "SUBJECT", "EXPECTED", "ACTUAL", "STATUS"]
    assert lines[-1] == "stack e2e: IN SYNC: 46 checks, 46 OK, 0 drift, 0 error"

    # A `secure:` sshPrivateKey is not decrypted: --key logs in. JSON, every row OK.
    secure = write_stack(lab, tmp_path / "secure.yaml", secure_key=True)
    report = cli("--stack-file", str(secure), "--key", str(lab.key_file), "--json")
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert document["status"] == "IN SYNC"
    assert len(document["rows"]) == 46 and {r["status"] for r in document["rows"]} == {"OK"}

    # A pinned host key that the leader does not have: refused, naming the node; exit 2.
    wrong = write_stack(lab, tmp_path / "wrong.yaml", leader_key=lab.host_key(2))
    report = cli("--stack-file", str(wrong))
    assert report.returncode == 2
    assert f"chuv ({lab.host(1).ip}:22): host key mismatch" in report.stderr
    assert report.stdout == ""

    # Reading changed nothing.
    assert swarm_versions(lab) == before

    # Drift, each row independent of the others.
    hug, bern, extra = lab.host(2).name, lab.host(3).name, lab.host(5)
    lab.run(
        1,
        f"docker node update --label-rm name {hug} && docker node promote {bern} && "
        "docker service rm exareme-worker-zurich && "
        "docker service scale -d exareme-master=2 && "
        "docker service update -d --constraint-rm 'node.labels.name == chuv' "
        "--constraint-add node.labels.name==bern exareme-keystore && "
        "docker service update -d --no-resolve-image --image mip-lab/busybox:1 "
        "exareme-worker-bern && "
        "docker stop mip-federation-portal",
    )
    token = sh(lab, 1, "docker swarm join-token -q worker")
    lab.run(5, f"docker swarm join --token {token} {lab.host(1).ip}:2377")
    expected = [
        Row("label", "hug", "name=hug", "(none)", "DRIFT"),
        Row("role", "bern", "worker", "manager", "DRIFT"),
        Row(
            "extra node",
            f"{extra.name} ({extra.ip})",
            "absent",
            "ready, worker, no name label",
            "DRIFT",
        ),
        Row(
            "placement",
            "exareme-keystore",
            "node.role == manager, node.labels.name == chuv",
            "node.labels.name==bern, node.role == manager",  # the docker CLI sorts them
            "DRIFT",
        ),
        # bern, promoted, is a manager labelled bern: the keystore moves there.
        Row("tasks", "exareme-keystore", "1 running on chuv", "1 running on bern", "DRIFT"),
        Row(
            "service", "exareme-master", "replicated, 1 replica", "replicated, 2 replicas", "DRIFT"
        ),
        Row(
            "tasks",
            "exareme-master",
            "1 running on chuv",
            "1 running on chuv; pending: no suitable node (scheduling constraints not "
            "satisfied on 4 nodes; host-mode port already in use on 1 node)",
            "DRIFT",
        ),
        Row("tasks", "exareme-worker-hug", "1 running on hug", NOT_SATISFIED.format(5), "DRIFT"),
        Row(
            "image",
            "exareme-worker-bern",
            lab.image_ref("hbpmip/exareme:v5"),
            "mip-lab/busybox:1",
            "DRIFT",
        ),
        Row("tasks", "exareme-worker-bern", "1 running on bern", NOT_SATISFIED.format(5), "DRIFT"),
        Row("service", "exareme-worker-zurich", "replicated, 1 replica", "missing", "DRIFT"),
        Row("portal", "mip-federation-portal", "running", "exited", "DRIFT"),
    ]
    settle(stack_file, expected)

    report = cli("--stack-file", str(stack_file), "--drift-only")
    assert report.returncode == 1, report.stderr
    assert len(report.stdout.splitlines()) == 1 + len(expected) + 1
    assert report.stdout.splitlines()[-1] == (
        # 46 checks in sync, one more for the extra node, three fewer for the missing service
        f"stack e2e: DRIFT: 44 checks, {44 - len(expected)} OK, {len(expected)} drift, 0 error"
    )
    print(report.stdout)  # the sample report in docs/doctor.md


def test_nodes_down_unreachable_and_gone_then_network_removed_and_recreated(federation, tmp_path):
    lab = federation.lab
    deploy(federation)
    stack_file = write_stack(lab, tmp_path / "Pulumi.e2e.yaml")
    settle(stack_file, [])  # the tasks start a few seconds after the deploy returns

    # A node that leaves is reported at once, by the node itself: the leader still lists it
    # ready until its heartbeat expires.
    lab.run(4, "docker swarm leave")
    left = Row("swarm", "zurich", IN_SWARM, "inactive (left the swarm)", "DRIFT")
    assert left in drift(stack_file)

    lab.stop_dockerd(2)
    lab.link_down(3)
    try:
        nodes = [
            Row(
                "node",
                "hug",
                "ready, active",
                "down, active; host: Docker daemon not answering",
                "DRIFT",
            ),
            Row("swarm", "hug", IN_SWARM, "Docker daemon not answering", "DRIFT"),
            Row(
                "node",
                "bern",
                "ready, active",
                "down, active; host: unreachable over SSH (timed out)",
                "DRIFT",
            ),
            Row("swarm", "bern", IN_SWARM, "unreachable over SSH (timed out)", "DRIFT"),
            Row("node", "zurich", "ready, active", "down, active; host left the swarm", "DRIFT"),
            left,
        ]
        unavailable = (
            "pending: no suitable node (3 nodes not available for new tasks; "
            "scheduling constraints not satisfied on 1 node)"
        )
        tasks = [
            Row("tasks", f"exareme-worker-{name}", f"1 running on {name}", unavailable, "DRIFT")
            for name in NAMES[1:]
        ]
        settle(stack_file, nodes + tasks)

        # The network goes (its services first: Docker refuses to remove a network in use).
        lab.run(1, "docker service rm $(docker service ls -q)")
        wait_for(
            lambda: lab.run(1, "docker network rm mip-federation", check=False).returncode == 0,
            what="the network removed once its tasks are gone",
        )
        services = [
            Row("service", name, "replicated, 1 replica", "missing", "DRIFT")
            for name in ["exareme-keystore", "exareme-master"]
            + [f"exareme-worker-{n}" for n in NAMES[1:]]
        ]
        network = "overlay, swarm"
        settle(
            stack_file,
            [*nodes, Row("network", "mip-federation", network, "missing", "DRIFT"), *services],
        )

        # ... and comes back attachable, plain, on another subnet.
        wait_for(
            lambda: (
                lab.run(
                    1,
                    "docker network create -d overlay --attachable --subnet 10.20.31.0/24 "
                    "mip-federation",
                    check=False,
                ).returncode
                == 0
            ),
            what="the network created again (the leader forgets the old one asynchronously)",
        )
        settle(
            stack_file,
            [
                *nodes,
                Row("network", "mip-federation", network, "overlay, swarm, attachable", "DRIFT"),
                Row("encryption", "mip-federation", "encrypted", "not encrypted", "DRIFT"),
                Row(
                    "subnet",
                    "mip-federation",
                    "10.20.30.0/24 gateway 10.20.30.254",
                    "10.20.31.0/24 gateway 10.20.31.1",
                    "DRIFT",
                ),
                *services,
            ],
        )
    finally:
        lab.link_up(3)
