"""End to end through a jump host: the leader and one worker take SSH only from a third lab host
(the bastion, not a swarm node); `pulumi up` reaches them through it (the commands' connection
proxy, the docker provider's ProxyCommand), the federation works, the doctor reads it through the
bastion, and a second `up` changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from federation import doctor
from tests.e2e.conftest import running_tasks, sh, swarm_nodes, swarm_state, wait_for
from tests.lab.exareme_check import is_working

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern"]
BEHIND_BASTION = (1, 2)  # chuv (the leader, whose engine the docker provider drives) and hug
DIRECT = 3  # bern keeps its direct SSH
BASTION = 4  # not a node of the federation


def jump_host(lab) -> dict[str, Any]:
    return {"host": lab.host(BASTION).ip, "hostKey": lab.host_key(BASTION)}


def with_jump_host(lab, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`nodes` with the bastion as `proxy` of the nodes on BEHIND_BASTION (per-node overrides)."""
    return [
        {**node, "proxy": jump_host(lab)} if position + 1 in BEHIND_BASTION else node
        for position, node in enumerate(nodes)
    ]


def write_stack(lab, path: Path) -> Path:
    document = lab.stack_config(NAMES, encrypted=False)
    config = document["config"]
    config["mip-federation:nodes"] = with_jump_host(lab, config["mip-federation:nodes"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def ssh_packets_from(lab, index: int, source: str) -> int:
    """Packets host `index` accepted on port 22 from `source` (its ssh_only_from rule)."""
    out = sh(lab, index, "iptables -w -n -v -x -L INPUT")
    for line in out.splitlines():
        words = line.split()
        # pkts bytes target prot opt in out source destination [match]
        if len(words) > 8 and words[2] == "ACCEPT" and words[7] == source and "dpt:22" in line:
            return int(words[0])
    raise AssertionError(f"no SSH ACCEPT rule for {source} on host {index}:\n{out}")


def test_up_through_a_bastion_to_hosts_reachable_only_through_it(federation, tmp_path):
    lab = federation.lab
    bastion = lab.host(BASTION).ip
    for index in BEHIND_BASTION:
        lab.ssh_only_from(index, BASTION)

    # From where the engine runs, those hosts' sshd refuses; the direct one and the bastion answer.
    for index in BEHIND_BASTION:
        direct = lab.ssh(index, "true", check=False, timeout=30)
        assert direct.returncode == 255, direct
        assert "Connection refused" in direct.stderr
    assert lab.ssh(DIRECT, "true", check=False).returncode == 0
    assert lab.ssh(BASTION, "true", check=False).returncode == 0

    config = federation.config(NAMES)
    config["nodes"] = with_jump_host(lab, config["nodes"])
    result = federation.deploy(config)
    assert result.ok, result.errors

    # Every SSH connection to those hosts came from the bastion.
    for index in BEHIND_BASTION:
        assert ssh_packets_from(lab, index, bastion) > 0
    assert swarm_state(lab, BASTION) == "inactive"

    host = {i: lab.host(i).name for i in (1, 2, 3)}
    nodes = swarm_nodes(lab)
    assert {h: (n["role"], n["name"], n["state"]) for h, n in nodes.items()} == {
        host[1]: ("manager", "chuv", "ready"),
        host[2]: ("worker", "hug", "ready"),
        host[3]: ("worker", "bern", "ready"),
    }
    expected = {"exareme-keystore", "exareme-master", "exareme-worker-hug", "exareme-worker-bern"}

    def all_running() -> dict[str, tuple[str, str]] | None:
        tasks = running_tasks(lab)
        return tasks if set(tasks) >= expected else None

    tasks = wait_for(all_running, timeout=90, what=f"services {sorted(expected)} running")
    assert tasks["exareme-worker-hug"][1] == host[2]
    # The data-plane probes ran (and passed: result.ok) on every node, and the master reports
    # each hospital's worker reachable over the overlay.
    assert {o["name"] for o in result.ops("create")} >= {f"probe-{n}" for n in NAMES}
    wait_for(lambda: is_working(lab, 1, NAMES), timeout=60, what="a working federation")

    # The doctor through the same bastion: every row OK, hug's own view of its swarm included.
    _, rows = doctor.report("e2e", write_stack(lab, tmp_path / "Pulumi.e2e.yaml"), None, 5.0)
    assert [r for r in rows if r.status != "OK"] == []
    assert ("swarm", "hug") in {(r.check, r.subject) for r in rows}

    # A second `up` through the bastion: nothing to do.
    again = federation.deploy(config)
    assert again.ok, again.errors
    assert {o["op"] for o in again.operations} == {"same"}
    assert swarm_nodes(lab) == nodes

    # Still no way in but the bastion.
    assert lab.ssh(2, "true", check=False, timeout=30).returncode == 255
