"""Faults on the lab: each ends with a redeploy that heals and a swarm that matches the stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import yaml

from tests.e2e.conftest import (
    running_tasks,
    sh,
    swarm_nodes,
    swarm_state,
    wait_for,
    with_ldsm_passwords,
)
from tests.program import ROOT

pytestmark = pytest.mark.lab

FOUR = ["chuv", "hug", "bern", "zurich"]
# Lab host index -> (role, name label): prefix-agnostic (lab.host(i).name is mip1, mxd1, ...).
ROLES = {
    1: ("manager", "chuv"),
    2: ("worker", "hug"),
    3: ("worker", "bern"),
    4: ("worker", "zurich"),
}
# A dead node must fail within the SSH dial limits (3 x 10 s) plus the commands' own work: a
# bound that proves the deploy does not hang, not a speed measurement.
DEAD_NODE_BOUND = 90


def expected(lab, *indexes: int) -> dict[str, tuple[str, str]]:
    return {lab.host(i).name: ROLES[i] for i in indexes}


def host_names(lab, *indexes: int) -> set[str]:
    return {lab.host(i).name for i in indexes}


def deploy(federation, config):
    """Deploy with an LDSM password for every node (the Exareme image, and its lab stand-in,
    exits at start without one)."""
    passwords = {n["name"]: f"ldsm-pw-{n['name']}" for n in config["nodes"]}
    return federation.deploy(config, {"ldsmPasswords": passwords})


def roles_and_labels(lab) -> dict[str, tuple[str, str]]:
    return {h: (n["role"], n["name"]) for h, n in swarm_nodes(lab).items()}


def assert_healed(federation, config) -> None:
    result = deploy(federation, config)
    assert result.ok, result.errors
    lab = federation.lab
    names = [n["name"] for n in config["nodes"]]
    assert roles_and_labels(lab) == expected(lab, *range(1, len(names) + 1))
    assert all(n["state"] == "ready" for n in swarm_nodes(lab).values())
    workers = {f"exareme-worker-{n}" for n in names[1:]}
    wait_for(
        lambda: set(running_tasks(lab)) >= {"exareme-keystore", "exareme-master"} | workers,
        timeout=90,
        what="every service running after the healing redeploy",
    )


def test_unreachable_worker_fails_alone_and_a_redeploy_completes_it(federation):
    lab = federation.lab
    config = federation.config(FOUR)
    lab.link_down(3)
    started = time.monotonic()
    result = deploy(federation, config)
    elapsed = time.monotonic() - started
    print(f"deploy with one dead node failed after {elapsed:.1f}s")
    errors = dict(result.errors)
    assert set(errors) == {"join-bern"}, result.errors
    assert lab.host(3).ip in errors["join-bern"]
    assert elapsed < DEAD_NODE_BOUND
    assert roles_and_labels(lab) == expected(lab, 1, 2, 4)

    lab.link_up(3)
    assert_healed(federation, config)


def test_wrong_ssh_key_for_one_node(federation):
    lab = federation.lab
    config = federation.config(FOUR)
    lab.run(
        2,
        "cp /root/.ssh/authorized_keys /root/.ssh/authorized_keys.good && "
        "ssh-keygen -q -t ed25519 -N '' -f /root/other && "
        "cp /root/other.pub /root/.ssh/authorized_keys",
    )
    result = deploy(federation, config)
    errors = dict(result.errors)
    assert set(errors) == {"join-hug"}, result.errors
    assert "unable to authenticate" in errors["join-hug"] or "Authentication" in errors["join-hug"]
    assert set(swarm_nodes(lab)) == host_names(lab, 1, 3, 4)

    lab.run(2, "cp /root/.ssh/authorized_keys.good /root/.ssh/authorized_keys")
    assert_healed(federation, config)


def test_node_already_in_another_swarm_is_refused_and_left_untouched(federation):
    lab = federation.lab
    config = federation.config(FOUR)
    lab.run(4, f"docker swarm init --advertise-addr {lab.host(4).ip} >/dev/null")
    foreign = sh(lab, 4, "docker info --format '{{.Swarm.Cluster.ID}}'")
    result = deploy(federation, config)
    errors = dict(result.errors)
    assert set(errors) == {"join-zurich"}, result.errors
    assert "node zurich: already belongs to another swarm" in errors["join-zurich"]
    assert sh(lab, 4, "docker info --format '{{.Swarm.Cluster.ID}}'") == foreign
    assert set(swarm_nodes(lab)) == host_names(lab, 1, 2, 3)

    lab.run(4, "docker swarm leave --force >/dev/null")
    assert_healed(federation, config)


def test_rebooted_worker_rejoins_by_itself_and_redeploy_changes_nothing(federation):
    lab = federation.lab
    config = federation.config(FOUR[:3])
    assert deploy(federation, config).ok
    lab.reboot(3)
    wait_for(
        lambda: (
            swarm_nodes(lab)[lab.host(3).name]["state"] == "ready"
            and swarm_state(lab, 3) == "active"
        ),
        timeout=90,
        what="host 3 back in the swarm after its reboot",
    )
    wait_for(lambda: "exareme-worker-bern" in running_tasks(lab), timeout=90, what="bern's task")
    again = deploy(federation, config)
    assert again.ok, again.errors
    assert {o["op"] for o in again.operations} == {"same"}
    assert roles_and_labels(lab) == expected(lab, 1, 2, 3)


def test_a_worker_that_fails_again_and_again_comes_back_once_it_can(federation):
    # swarmkit restart.go shouldRestart: once a slot's restarts are used up (the 2018 compose
    # files allowed 3 within 120 s), the slot is shut down for good. Four failures in a row, a
    # few seconds apart, as a rebooting server or an unreachable database would cause.
    lab = federation.lab
    config = federation.config(FOUR[:2])
    assert deploy(federation, config).ok
    container = "docker ps -q --filter name=exareme-worker-hug."
    for failure in range(4):
        running = wait_for(lambda: sh(lab, 2, container), timeout=60, what=f"hug's task {failure}")
        sh(lab, 2, f"docker kill {running} >/dev/null")
    wait_for(
        lambda: "exareme-worker-hug" in running_tasks(lab),
        timeout=60,
        what="hug's worker running again after four failures",
    )


def test_destroy_with_an_unreachable_worker_then_again_after_link_up(federation):
    lab = federation.lab
    config = federation.config(FOUR)
    assert deploy(federation, config).ok
    lab.link_down(4)
    first = federation.destroy()
    errors = dict(first.errors)
    assert "join-zurich" in errors and lab.host(4).ip in errors["join-zurich"]
    assert swarm_state(lab, 2) == "inactive" and swarm_state(lab, 3) == "inactive"
    assert sh(lab, 1, "docker service ls -q") == ""

    lab.link_up(4)
    second = federation.destroy()
    assert second.ok, second.errors
    for index in range(1, 5):
        assert swarm_state(lab, index) == "inactive"
        assert sh(lab, index, "docker ps -aq") == ""


def test_manager_dockerd_restarted_mid_deploy(federation):
    lab = federation.lab
    config = federation.config(FOUR)
    outcome: list = []
    deploying = threading.Thread(target=lambda: outcome.append(deploy(federation, config)))
    deploying.start()
    wait_for(lambda: swarm_state(lab, 1) == "active", timeout=60, interval=0.05, what="swarm init")
    lab.restart_dockerd(1)
    deploying.join()
    first = outcome[0]
    print(f"deploy across the manager's dockerd restart: ok={first.ok} errors={first.errors}")
    for name, message in first.errors:
        assert name and message, "every failure names its resource and says why"

    assert_healed(federation, config)
    # No node is left half-joined: every host is an active member of the one swarm.
    swarm_id = sh(lab, 1, "docker info --format '{{.Swarm.Cluster.ID}}'")
    for index in range(2, 5):
        assert swarm_state(lab, index) == "active"
        managers = sh(
            lab, index, "docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}}{{end}}'"
        )
        assert managers == f"{lab.host(1).ip}:2377"
    assert len(swarm_nodes(lab)) == 4 and swarm_id


INTERRUPT_POINTS = {
    "after swarm init": "docker info --format '{{.Swarm.LocalNodeState}}' | grep -qx active",
    "after the network": "docker network ls --format '{{.Name}}' | grep -qx mip-federation",
    "after a service": "docker service ls --format '{{.Name}}' | grep -q exareme",
}


@pytest.mark.parametrize("point", list(INTERRUPT_POINTS))
def test_interrupted_deploy_then_redeploy_converges(federation, tmp_path, point):
    lab = federation.lab
    config = federation.config(FOUR)
    stack_file = tmp_path / "Pulumi.e2e.yaml"
    stack_file.write_text(
        yaml.safe_dump({"config": {f"mip-federation:{k}": v for k, v in config.items()}})
    )
    # `up` refuses a node without an LDSM password: the deploy gets one per node, as a secret.
    secrets_file = tmp_path / "secrets.yaml"
    passwords = with_ldsm_passwords(config)["ldsmPasswords"]
    secrets_file.write_text(yaml.safe_dump({"mip-federation:ldsmPasswords": passwords}))
    deploying = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.engine",
            "deploy",
            str(stack_file),
            "--secrets",
            str(secrets_file),
            "--state",
            str(federation.state_file),
            "--program-dir",
            str(ROOT),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_for(
        lambda: lab.run(1, INTERRUPT_POINTS[point], check=False).returncode == 0,
        timeout=60,
        interval=0.05,
        what=point,
    )
    os.killpg(deploying.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's process group
    _, stderr = deploying.communicate(timeout=120)
    print(f"interrupted deploy exited {deploying.returncode}: {stderr.decode()[-400:]}")
    assert deploying.returncode != 0

    assert_healed(federation, config)
    again = deploy(federation, config)
    assert {o["op"] for o in again.operations} == {"same"}
