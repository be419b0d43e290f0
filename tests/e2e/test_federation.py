"""End to end: the real program deployed into the local lab, asserted from the hosts themselves."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import running_tasks, sh, swarm_nodes, swarm_state, wait_for

pytestmark = pytest.mark.lab

FOUR = ["chuv", "hug", "bern", "zurich"]
LDSM = {"ldsmPasswords": {name: f"ldsm-pw-{name}" for name in FOUR}}
EXPECTED_SERVICES = {"exareme-keystore", "exareme-master"}


def services_running(lab, expected: set[str]):
    def check():
        tasks = running_tasks(lab)
        return tasks if set(tasks) >= expected else None

    return wait_for(check, timeout=90, what=f"services {sorted(expected)} running")


def service_versions(lab) -> dict[str, str]:
    out = sh(
        lab,
        1,
        "docker service ls -q | xargs docker service inspect "
        "--format '{{.Spec.Name}} {{.Version.Index}}'",
    )
    return dict(line.split() for line in out.splitlines())


def test_one_manager_three_workers_deploy_redeploy_remove_destroy(federation):
    lab = federation.lab
    config = federation.config(FOUR)
    result = federation.deploy(config, LDSM)
    assert result.ok, result.errors

    # Roles and name labels, as the leader sees them.
    nodes = swarm_nodes(lab)
    assert {h: (n["role"], n["name"], n["state"]) for h, n in nodes.items()} == {
        "mip1": ("manager", "chuv", "ready"),
        "mip2": ("worker", "hug", "ready"),
        "mip3": ("worker", "bern", "ready"),
        "mip4": ("worker", "zurich", "ready"),
    }

    # The network with the configured subnet and gateway (unencrypted in this lab variant).
    ipam = sh(
        lab,
        1,
        "docker network inspect mip-federation --format "
        "'{{.Driver}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} "
        '{{index .Options "encrypted"}}\'',
    )
    assert ipam.split() == ["overlay", "true", "10.20.30.0/24", "10.20.30.254"]

    # Keystore and master on the leader, each worker service on its own node.
    workers = {f"exareme-worker-{n}" for n in FOUR[1:]}
    tasks = services_running(lab, EXPECTED_SERVICES | workers)
    assert {s: node for s, (_, node) in tasks.items()} == {
        "exareme-keystore": "mip1",
        "exareme-master": "mip1",
        "exareme-worker-hug": "mip2",
        "exareme-worker-bern": "mip3",
        "exareme-worker-zurich": "mip4",
    }

    # The Exareme stand-in answers on the master's host-mode port, seen from another hospital.
    page = wait_for(
        lambda: lab.run(2, "timeout 5 wget -qO- http://10.231.0.11:9090/", check=False).stdout,
        what="Exareme master on 10.231.0.11:9090",
    )
    assert "NODE_NAME=chuv" in page and "MASTER_FLAG=master" in page

    # A task on one host reaches a task on another over the overlay, by service name (dnsrr).
    lab.run(2, "docker run -d --name probe --network mip-federation mip-lab/busybox:1 sleep 600")
    reply = wait_for(
        lambda: (
            lab.run(
                2,
                "docker exec probe timeout 5 wget -qO- http://exareme-worker-bern:9090/",
                check=False,
            ).stdout
        ),
        what="probe on mip2 reaching exareme-worker-bern on mip3 over the overlay",
    )
    assert "NODE_NAME=bern" in reply
    keystore = lab.run(
        3,
        "docker exec $(docker ps -q -f name=exareme-worker-bern) "
        "timeout 5 wget -qO- http://exareme-keystore:8500/",
        check=False,
    ).stdout
    assert "consul" in keystore
    lab.run(2, "docker rm -f probe")

    # The portal container, outside the swarm, points at the master.
    env = sh(lab, 1, "docker inspect mip-federation-portal --format '{{json .Config.Env}}'")
    assert "EXAREME_URL=http://10.231.0.11:9090/mining/query" in env
    assert result.outputs["exaremeUrl"] == "http://10.231.0.11:9090/mining/query"
    assert result.outputs["swarmId"] == sh(lab, 1, "docker info --format '{{.Swarm.Cluster.ID}}'")

    # Redeploy: nothing runs, nothing restarts.
    versions = service_versions(lab)
    tasks = running_tasks(lab)
    again = federation.deploy(config, LDSM)
    assert again.ok, again.errors
    assert {o["op"] for o in again.operations} == {"same"}
    assert service_versions(lab) == versions
    assert running_tasks(lab) == tasks
    assert swarm_nodes(lab) == nodes

    # Remove a worker: exactly its resources are deleted, in reverse dependency order.
    smaller = dict(config, nodes=config["nodes"][:3])
    removed = federation.deploy(smaller, {"ldsmPasswords": {n: f"ldsm-pw-{n}" for n in FOUR[:3]}})
    assert removed.ok, removed.errors
    deletes = [o["name"] for o in removed.operations if o["op"] == "delete"]
    assert deletes == ["exareme-worker-zurich", "node-zurich", "join-zurich"]
    changed = {o["name"] for o in removed.operations if o["op"] not in ("same", "delete")}
    assert changed == {"exareme-master"}, "only EXA_WORKERS_WAIT changes on the master"
    assert "mip4" not in swarm_nodes(lab)
    assert swarm_state(lab, 4) == "inactive"

    # Destroy: every host out of any swarm, nothing left.
    gone = federation.destroy()
    assert gone.ok, gone.errors
    for index in range(1, 5):
        assert swarm_state(lab, index) == "inactive"
        assert sh(lab, index, "docker ps -aq") == ""
        assert sh(lab, index, "docker network ls -q --filter name=mip-federation") == ""
        assert sh(lab, index, "ls -A /root") == ".ssh", "the marker directory is removed too"


def test_three_managers_two_workers_with_the_encrypted_network(federation):
    lab = federation.lab
    names = ["chuv", "hug", "bern", "zurich", "basel"]
    config = federation.config(names, managers=3, encrypted=True)
    result = federation.deploy(config)
    assert result.ok, result.errors

    nodes = swarm_nodes(lab)
    assert {h: (n["role"], n["name"]) for h, n in nodes.items()} == {
        "mip1": ("manager", "chuv"),
        "mip2": ("manager", "hug"),
        "mip3": ("manager", "bern"),
        "mip4": ("worker", "zurich"),
        "mip5": ("worker", "basel"),
    }
    status = sh(lab, 1, "docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'")
    assert sorted(line.strip() for line in status.splitlines()) == [
        "mip1 Leader",
        "mip2 Reachable",
        "mip3 Reachable",
        "mip4",
        "mip5",
    ]

    options = sh(lab, 1, "docker network inspect mip-federation --format '{{json .Options}}'")
    assert json.loads(options) == {
        "encrypted": "true",
        "com.docker.network.driver.overlay.vxlanid_list": "10203000",
    }

    workers = {f"exareme-worker-{n}" for n in names[1:]}
    tasks = services_running(lab, EXPECTED_SERVICES | workers)
    assert {s: node for s, (_, node) in tasks.items()} == {
        "exareme-keystore": "mip1",
        "exareme-master": "mip1",
        "exareme-worker-hug": "mip2",
        "exareme-worker-bern": "mip3",
        "exareme-worker-zurich": "mip4",
        "exareme-worker-basel": "mip5",
    }

    gone = federation.destroy()
    assert gone.ok, gone.errors
    for index in range(1, 6):
        assert swarm_state(lab, index) == "inactive"
