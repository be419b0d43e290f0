"""End to end, issue 18: only the federation's own services on its network, and the master's query
port closed but to the portal and `exareme.allowFrom`; reached by upgrading a stack deployed with
the program before it (attachable network, open port)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import sh, wait_for, with_ldsm_passwords
from tests.lab.exareme_check import is_working, master_answer, portal_answer, reports_all
from tests.program import ROOT

pytestmark = pytest.mark.lab

NAMES = ["chuv", "hug", "bern"]
# The program before issue 18: an attachable overlay, the query port open to every host.
BEFORE = "65a0331"


def deploy_before(federation, config: dict, where: Path) -> None:
    """`pulumi up` of the program at BEFORE, with its own engine double, on this stack's state
    (the engine imports `federation` itself, so one process cannot run two versions of it)."""
    where.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE], capture_output=True, check=False
    )
    if archive.returncode != 0:
        pytest.skip(f"commit {BEFORE} is not in this checkout")
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive.stdout, check=True)
    namespaced = {f"mip-federation:{k}": v for k, v in config.items()}
    secrets = {f"mip-federation:{k}": v for k, v in with_ldsm_passwords(config).items()}
    (where / f"Pulumi.{federation.stack}.yaml").write_text(json.dumps({"config": namespaced}))
    (where / "secrets.yaml").write_text(json.dumps(secrets))
    stack_file = f"Pulumi.{federation.stack}.yaml"
    options = ["--secrets", "secrets.yaml", "--state", str(federation.state_file)]
    up = subprocess.run(
        [sys.executable, "-m", "tests.engine", "deploy", stack_file, *options],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert up.returncode == 0, (up.stdout + up.stderr)[-4000:]


def attach_from(lab, index: int) -> subprocess.CompletedProcess[str]:
    return lab.run(
        index, "docker run --rm --network mip-federation mip-lab/busybox:1 true", check=False
    )


def port_from(lab, index: int, leader_ip: str) -> str:
    out = lab.run(index, f"busybox nc -w 3 {leader_ip} 9090 </dev/null; echo rc=$?", check=False)
    return out.stdout + out.stderr


def test_an_attachable_stack_upgrades_to_a_closed_network_and_port(federation, tmp_path):
    lab = federation.lab
    leader_ip = lab.host(1).ip
    config = federation.config(NAMES)
    old_config = {**config, "exareme": dict(config["exareme"])}
    old_config["exareme"].pop("allowFrom")  # the old program does not know the key
    deploy_before(federation, old_config, tmp_path / "before")
    assert sh(lab, 1, "docker network inspect -f '{{.Attachable}}' mip-federation") == "true"
    wait_for(lambda: is_working(lab, 1, NAMES), timeout=120, what="the old federation working")
    assert port_from(lab, 2, leader_ip).strip() == "rc=0"  # open to every host before

    result = federation.deploy(config)
    runs = [result]
    while not result.ok and len(runs) < 4:
        # docs/upgrading.md: the old services stop on SIGTERM within 5 s, and the provider's
        # delete waits only that long for their containers on the leader (deleteService): a
        # delete can fail with the service gone but still in the state. Each
        # `pulumi up --refresh` gets further (the services on the leader: keystore, master).
        assert all("error on wait for container" in e for _, e in result.errors), result.errors
        result = federation.deploy(config, refresh=True)
        runs.append(result)
    print("runs to upgrade:", len(runs))
    assert result.ok, result.errors
    # The network replaced (delete first: its name is fixed), the services following it.
    replaced = {op["name"] for run in runs for op in run.ops("replace") + run.ops("create")}
    services = {"exareme-keystore", "exareme-master", "exareme-worker-hug", "exareme-worker-bern"}
    assert {"overlay-network", *services} <= replaced, replaced
    assert sh(lab, 1, "docker network inspect -f '{{.Attachable}}' mip-federation") == "false"
    wait_for(lambda: is_working(lab, 1, NAMES), timeout=120, what="the federation working again")

    # No container outside the federation's services joins the network, on a worker or the leader.
    for index in (2, 1):
        refused = attach_from(lab, index)
        assert refused.returncode != 0, refused.stdout
        assert "attachable" in refused.stderr or "not found" in refused.stderr, refused.stderr

    # The query port: reset from another lab host, answered from the allowed bridge address,
    # and the portal still relays.
    for index in (2, 3):
        answer = port_from(lab, index, leader_ip)
        assert "Connection refused" in answer and "rc=1" in answer, answer
    assert reports_all(master_answer(lab, 1), NAMES)
    assert reports_all(portal_answer(lab, 1), NAMES)

    # A second up changes nothing, and destroy removes the chain.
    again = federation.deploy(config)
    assert again.ok, again.errors
    assert {o["op"] for o in again.operations} == {"same"}
    gone = federation.destroy()
    assert gone.ok, gone.errors
    assert "MIP-FEDERATION-QUERY" not in sh(lab, 1, "iptables -S; ip6tables -S")
