"""On the lab: losing the lead manager of a 3-manager federation. The other managers keep quorum
and the Exareme tasks elsewhere keep running; with swarm.controlManager on the second manager,
`up` adds a hospital without replacing anything; the first host comes back and rejoins."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import doctor
from tests.e2e.conftest import Federation, running_tasks, sh, swarm_nodes, swarm_state, wait_for
from tests.lab import Lab
from tests.lab.fixture import lab_fixture
from tests.lab.lab import HostCommandError

pytestmark = pytest.mark.lab

lab7 = lab_fixture(hosts=7, name="lab7")

SIX = ["chuv", "hug", "bern", "zurich", "basel", "lugano"]  # 3 managers, then 3 workers
SEVEN = [*SIX, "geneva"]


# The Exareme image (and its lab stand-in) exits at start without its LDSM password.
def ldsm(names: list[str]) -> dict[str, Any]:
    return {"ldsmPasswords": {name: f"ldsm-pw-{name}" for name in names}}


@pytest.fixture
def federation7(lab7: Lab, tmp_path: Path) -> Federation:
    lab7.reset()
    return Federation(lab7, tmp_path / "state.json")


def config_for(federation: Federation, names: list[str], **swarm: str) -> dict[str, Any]:
    config = federation.config(names, managers=3)
    if swarm:
        config["swarm"] = swarm
    return config


def node_states(lab: Lab, via: int) -> dict[str, tuple[str, str]]:
    """hostname -> (state, manager status) as manager `via` sees them."""
    result = lab.run(
        via, "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'", check=False
    )
    table: dict[str, tuple[str, str]] = {}
    if result.returncode:  # no raft leader yet (context deadline exceeded)
        return table
    for line in result.stdout.splitlines():
        host, state, *status = line.split()
        table[host] = (state, status[0] if status else "")
    return table


def doctor_drift(federation: Federation, names: list[str], **swarm: str) -> list[Any]:
    """The doctor's rows that are not OK, for a stack file of `names` (3 managers)."""
    document = federation.lab.stack_config(names, managers=3, encrypted=False)
    if swarm:
        document["config"]["mip-federation:swarm"] = swarm
    path = federation.state_file.parent / "Pulumi.e2e.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    _, rows = doctor.report("e2e", path, None, 2.0)
    return [r for r in rows if r.status != "OK"]


def doctor_settles(federation: Federation, names: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (rows := doctor_drift(federation, names)) and time.monotonic() < deadline:
        time.sleep(1)
    assert rows == [], rows


def changed(result) -> dict[str, str]:
    return {o["name"]: o["op"] for o in result.operations if o["op"] != "same"}


def test_losing_the_first_manager_then_managing_through_the_second(federation7):
    federation = federation7
    lab = federation.lab
    hosts = {i: lab.host(i) for i in range(1, 8)}
    config = config_for(federation, SIX)
    deployed = federation.deploy(config, ldsm(SIX))
    assert deployed.ok, deployed.errors
    roles = {h: n["role"] for h, n in swarm_nodes(lab).items()}
    assert roles == {hosts[i].name: "manager" if i <= 3 else "worker" for i in range(1, 7)}
    workers = {f"exareme-worker-{n}" for n in SIX[1:]}
    before = wait_for(
        lambda: (t := running_tasks(lab)) and set(t) >= workers and t,
        timeout=120,
        what="every Exareme worker running",
    )

    # The first manager's host is cut off: the two others keep quorum and elect a leader.
    lab.link_down(1)
    wait_for(
        lambda: node_states(lab, 2).get(hosts[1].name, ("", ""))[0] == "Down",
        timeout=90,
        what=f"{hosts[1].name} seen down by {hosts[2].name}",
    )
    wait_for(
        lambda: "Leader" in {s for _, s in node_states(lab, 2).values()},
        timeout=60,
        what="a new raft leader among the two managers left",
    )
    # The federation keeps serving: the tasks on the other hosts are the same tasks, running.
    during = running_tasks(lab, leader=2)
    for service in workers:
        assert during.get(service) == before[service], service

    # Pulumi through the second manager: a new hospital joins, nothing is replaced.
    grown = config_for(federation, SEVEN, controlManager="hug")
    up = federation.deploy(grown, ldsm(SEVEN))
    assert up.ok, up.errors
    ops = changed(up)
    print("up through hug:", ops)
    assert ops.pop("join-geneva") == ops.pop("node-geneva") == "create"
    assert ops.pop("exareme-worker-geneva") == ops.pop("ldsm-geneva") == "create"
    # Its data-plane probe is skipped (the leader's host is down): it warns, it does not fail.
    assert ops.pop("probe-geneva") == "create"
    assert ops.pop("leader-docker") == "update", "the provider moves; its id stays"
    assert set(ops.values()) == {"update"}, ops
    assert set(ops) == {"swarm-join-tokens"} | {f"node-{n}" for n in SIX}, ops
    nodes = swarm_nodes(lab, leader=2)
    assert nodes[hosts[7].name]["state"] == "ready" and nodes[hosts[7].name]["name"] == "geneva"
    wait_for(
        lambda: "exareme-worker-geneva" in running_tasks(lab, leader=2),
        timeout=90,
        what="the new hospital's worker running",
    )
    again = federation.deploy(grown, ldsm(SEVEN))
    assert again.ok and changed(again) == {}, again.operations

    # The doctor works through the second manager: what it reports is the first host and what
    # only runs there (the keystore and the master are pinned to it).
    rows = doctor_drift(federation, SEVEN, controlManager="hug")
    print("doctor while chuv is down:", [(r.check, r.subject, r.actual) for r in rows])
    assert rows, "the lost host is reported"
    assert any(r.subject == "chuv" for r in rows)
    # (the query port's firewall lives on chuv too: its row is `chuv:9090`)
    chuv_only = {"chuv", "chuv:9090", "exareme-master", "exareme-keystore", "mip-federation-portal"}
    assert {r.subject for r in rows} <= chuv_only, rows

    # The first host comes back: it rejoins by itself (its dockerd kept its swarm state).
    lab.link_up(1)

    def all_ready() -> bool:
        try:
            return all(n["state"] == "ready" for n in swarm_nodes(lab, leader=2).values())
        except HostCommandError:  # a raft election while the first manager rejoins
            return False

    wait_for(all_ready, timeout=120, what="every node ready again")
    assert swarm_nodes(lab, leader=1)[hosts[1].name]["role"] == "manager"
    clean = federation.deploy(grown, ldsm(SEVEN))
    assert clean.ok and changed(clean) == {}, clean.operations

    # Back to the default control manager: connections move back, nothing else.
    back = config_for(federation, SEVEN)
    home = federation.deploy(back, ldsm(SEVEN))
    assert home.ok, home.errors
    assert set(changed(home)) == {"leader-docker", "swarm-join-tokens"} | {
        f"node-{n}" for n in SEVEN
    }, home.operations
    assert set(changed(home).values()) == {"update"}
    wait_for(
        lambda: {"exareme-master", "exareme-keystore"} <= set(running_tasks(lab)),
        timeout=120,
        what="the master and the keystore running again on the first host",
    )
    doctor_settles(federation, SEVEN)


FOUR = ["chuv", "hug", "bern", "zurich"]  # 3 managers, 1 worker


def test_lost_quorum_recovered_with_force_new_cluster_as_the_runbook_says(federation7):
    """docs/operations.md, "Recovering from a lost quorum", step by step, with the lost managers'
    hosts coming back later (so that their `docker swarm leave` can run when they leave the
    stack)."""
    federation = federation7
    lab = federation.lab
    hosts = {i: lab.host(i) for i in range(1, 5)}
    config = config_for(federation, FOUR)
    deployed = federation.deploy(config, ldsm(FOUR))
    assert deployed.ok, deployed.errors
    swarm_id = deployed.outputs["swarmId"]
    tasks = wait_for(
        lambda: (t := running_tasks(lab)) and "exareme-worker-zurich" in t and t,
        timeout=120,
        what="zurich's worker running",
    )
    container = sh(lab, 4, "docker ps -q --filter name=exareme-worker-zurich")
    assert container

    # Two of the three managers are lost: no quorum, the survivor cannot manage anything...
    lab.link_down(2)
    lab.link_down(3)
    wait_for(
        lambda: lab.run(1, "docker node ls", check=False, timeout=30).returncode != 0,
        timeout=120,
        what="the survivor without quorum",
    )
    # ... but the tasks keep running.
    assert sh(lab, 4, "docker ps -q --filter name=exareme-worker-zurich") == container

    # Step 2: a new cluster from the survivor, same cluster, nodes and services.
    lab.run(1, f"docker swarm init --force-new-cluster --advertise-addr {hosts[1].ip}")
    assert sh(lab, 1, "docker info --format '{{.Swarm.Cluster.ID}}'") == swarm_id
    wait_for(lambda: swarm_nodes(lab), timeout=60, what="docker node ls on the new cluster")
    assert running_tasks(lab)["exareme-worker-zurich"] == tasks["exareme-worker-zurich"]

    # Step 4: the lost managers removed (no longer Raft members: no demote).
    for i in (2, 3):
        lab.run(1, f"docker node rm --force {hosts[i].name}")
    assert set(swarm_nodes(lab)) == {hosts[1].name, hosts[4].name}

    # Step 5: the stack without them (their hosts are back, so their leave can run).
    lab.link_up(2)
    lab.link_up(3)
    shrunk = dict(config, nodes=[n for n in config["nodes"] if n["name"] in ("chuv", "zurich")])
    down = federation.deploy(shrunk, ldsm(["chuv", "zurich"]))
    assert down.ok, down.errors
    deleted = {o["name"] for o in down.ops("delete")}
    assert deleted >= {f"{kind}-{n}" for kind in ("join", "node") for n in ("hug", "bern")} | {
        "exareme-worker-hug",
        "exareme-worker-bern",
    }
    assert all(name.endswith(("-hug", "-bern")) for name in deleted), changed(down)
    for i in (2, 3):
        wait_for(
            lambda i=i: swarm_state(lab, i) == "inactive",
            what=f"{hosts[i].name} out of the old cluster",
        )

    # Back to three managers: the same hosts join again, as managers, with the stored token.
    up = federation.deploy(config, ldsm(FOUR))
    assert up.ok, up.errors
    expected_roles = {
        hosts[1].name: ("manager", "ready"),
        hosts[2].name: ("manager", "ready"),
        hosts[3].name: ("manager", "ready"),
        hosts[4].name: ("worker", "ready"),
    }

    def roles() -> dict[str, tuple[str, str]]:
        return {h: (n["role"], n["state"]) for h, n in swarm_nodes(lab).items()}

    # A node may read "unknown" for a moment while the new managers' leader takes over its
    # heartbeats.
    wait_for(lambda: roles() == expected_roles, timeout=60, what="every node ready")
    again = federation.deploy(config, ldsm(FOUR))
    assert again.ok and changed(again) == {}, again.operations
    doctor_settles(federation, FOUR)
