"""End to end: the real program deployed into the local lab, asserted from the hosts themselves."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import running_tasks, sh, swarm_nodes, swarm_state, wait_for
from tests.lab.exareme_check import is_working, master_answer, portal_answer, reports_all

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
    host = {i: lab.host(i).name for i in range(1, 6)}
    leader_ip = lab.host(1).ip
    nodes = swarm_nodes(lab)
    assert {h: (n["role"], n["name"], n["state"]) for h, n in nodes.items()} == {
        host[1]: ("manager", "chuv", "ready"),
        host[2]: ("worker", "hug", "ready"),
        host[3]: ("worker", "bern", "ready"),
        host[4]: ("worker", "zurich", "ready"),
    }

    # The network with the configured subnet and gateway (unencrypted in this lab variant).
    ipam = sh(
        lab,
        1,
        "docker network inspect mip-federation --format "
        "'{{.Driver}} {{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} "
        '{{index .Options "encrypted"}}\'',
    )
    assert ipam.split() == ["overlay", "false", "10.20.30.0/24", "10.20.30.254"]
    # No routing mesh: the swarm the program created has no ingress network, and no node set up
    # an ingress sandbox.
    assert sh(lab, 1, "docker network ls --format '{{.Name}}' --filter driver=overlay").split() == [
        "mip-federation"
    ]
    assert sh(lab, 3, "ls /var/run/docker/netns").split().count("ingress_sbox") == 0

    # Keystore and master on the leader, each worker service on its own node.
    workers = {f"exareme-worker-{n}" for n in FOUR[1:]}
    tasks = services_running(lab, EXPECTED_SERVICES | workers)
    assert {s: node for s, (_, node) in tasks.items()} == {
        "exareme-keystore": host[1],
        "exareme-master": host[1],
        "exareme-worker-hug": host[2],
        "exareme-worker-bern": host[3],
        "exareme-worker-zurich": host[4],
    }

    # Working: the master (host-mode port on the leader) reports every hospital's worker
    # reachable over the overlay, and the portal's EXAREME_URL leads to that answer.
    wait_for(lambda: is_working(lab, 1, FOUR), timeout=60, what="a working federation")
    answer = master_answer(lab, 1)
    assert answer is not None and answer["master"] == "chuv"
    assert answer["workers_wait"] == 3
    assert sorted(w["name"] for w in answer["workers"]) == ["bern", "hug", "zurich"]
    assert all(w["address"].startswith("10.20.30.") for w in answer["workers"])
    assert reports_all(portal_answer(lab, 1), FOUR)

    # Each worker registered its own overlay address under its node name in the keystore,
    # which it reaches by name (exareme-keystore:8500) over the overlay.
    overlay = sh(
        lab,
        3,
        "docker inspect $(docker ps -q -f name=exareme-worker-bern) --format "
        "'{{(index .NetworkSettings.Networks \"mip-federation\").IPAddress}}'",
    )
    registered = sh(
        lab,
        3,
        "docker exec $(docker ps -q -f name=exareme-worker-bern) "
        "wget -qO- http://exareme-keystore:8500/v1/kv/active_workers/bern?raw",
    )
    assert registered == overlay
    assert {"name": "bern", "address": overlay, "reachable": True} in answer["workers"]

    # The portal container, outside the swarm, points at the master.
    env = sh(lab, 1, "docker inspect mip-federation-portal --format '{{json .Config.Env}}'")
    assert f"EXAREME_URL=http://{leader_ip}:9090/mining/query" in env
    assert result.outputs["exaremeUrl"] == f"http://{leader_ip}:9090/mining/query"
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
    # Its password secret goes after the service that mounts it (Docker refuses a secret in use).
    assert deletes == [
        "probe-zurich",
        "exareme-worker-zurich",
        "ldsm-zurich",
        "node-zurich",
        "join-zurich",
    ]
    changed = {o["name"] for o in removed.operations if o["op"] not in ("same", "delete")}
    assert changed == set(), "the master's EXA_WORKERS_WAIT is ignored after the first bootstrap"
    assert host[4] not in swarm_nodes(lab)
    wait_for(lambda: is_working(lab, 1, FOUR[:3]), timeout=60, what="working without zurich")
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
    # No ESP on this kernel: the data-plane probes of the other nodes fail, naming ESP
    # (federation/probe.py); every other resource is created.
    errors = dict(result.errors)
    assert set(errors) == {f"probe-{n}" for n in names[1:]}, result.errors
    assert all("ESP, IP protocol 50" in message for message in errors.values())

    host = {i: lab.host(i).name for i in range(1, 6)}
    nodes = swarm_nodes(lab)
    assert {h: (n["role"], n["name"]) for h, n in nodes.items()} == {
        host[1]: ("manager", "chuv"),
        host[2]: ("manager", "hug"),
        host[3]: ("manager", "bern"),
        host[4]: ("worker", "zurich"),
        host[5]: ("worker", "basel"),
    }
    status = sh(lab, 1, "docker node ls --format '{{.Hostname}} {{.ManagerStatus}}'")
    assert sorted(line.strip() for line in status.splitlines()) == [
        f"{host[1]} Leader",
        f"{host[2]} Reachable",
        f"{host[3]} Reachable",
        host[4],
        host[5],
    ]

    options = sh(lab, 1, "docker network inspect mip-federation --format '{{json .Options}}'")
    assert json.loads(options) == {
        "encrypted": "true",
        "com.docker.network.driver.overlay.vxlanid_list": "10203000",
    }

    # Tasks only: this kernel carries no traffic on an encrypted overlay (no ESP), so the workers
    # on other hosts cannot reach the keystore, and the federation cannot be working here.
    workers = {f"exareme-worker-{n}" for n in names[1:]}
    tasks = services_running(lab, EXPECTED_SERVICES | workers)
    assert {s: node for s, (_, node) in tasks.items()} == {
        "exareme-keystore": host[1],
        "exareme-master": host[1],
        "exareme-worker-hug": host[2],
        "exareme-worker-bern": host[3],
        "exareme-worker-zurich": host[4],
        "exareme-worker-basel": host[5],
    }

    gone = federation.destroy()
    assert gone.ok, gone.errors
    for index in range(1, 6):
        assert swarm_state(lab, index) == "inactive"
