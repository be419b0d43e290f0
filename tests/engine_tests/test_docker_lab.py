"""Docker networks, services and containers applied through an ssh:// provider."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.engine import deploy, destroy
from tests.engine_tests.labkit import PROGRAMS, Dockerd, Sshd, docker_config

pytestmark = pytest.mark.lab
PROGRAM = PROGRAMS / "docker"


def inspect(dockerd: Dockerd, kind: str, name: str) -> dict[str, object]:
    data = json.loads(dockerd.cli(kind, "inspect", name))
    return dict(data[0])


def networks(dockerd: Dockerd) -> list[str]:
    return dockerd.cli("network", "ls", "--format", "{{.Name}}").split()


def gone_within(dockerd: Dockerd, network: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while network in networks(dockerd):
        assert time.monotonic() < deadline, f"network {network} still present"
        time.sleep(0.5)


def test_network_service_container_lifecycle(
    dockerd: Dockerd, docker_sshd: Sshd, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    network = {
        "name": "eng-net",
        "subnet": "10.20.30.0/24",
        "gateway": "10.20.30.1",
        "encrypted": True,
    }
    service = {"name": "eng-svc", "env": {"A": "1"}, "command": ["/bin/sleep", "3600"]}
    service["port"] = 19090
    container = {"envs": ["X=1"]}
    config = docker_config(docker_sshd, network=network, service=service, container=container)

    first = deploy(PROGRAM, "test", config, [], state)
    assert first.ok, first.errors
    assert {o["name"]: o["op"] for o in first.operations} == {
        "node": "create",
        "net": "create",
        "svc": "create",
        "ctr": "create",
    }
    net = inspect(dockerd, "network", "eng-net")
    assert net["Id"] == first.outputs["networkId"]
    assert net["Driver"] == "overlay" and net["Attachable"] is True
    assert net["Options"]["encrypted"] == "true"
    assert net["Labels"] == {"encrypted": "true"}
    assert net["IPAM"]["Config"][0]["Subnet"] == "10.20.30.0/24"
    svc = inspect(dockerd, "service", "eng-svc")
    spec = svc["Spec"]
    assert svc["ID"] == first.outputs["serviceId"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Env"] == ["A=1"]
    assert spec["TaskTemplate"]["RestartPolicy"] == {
        "Condition": "on-failure",
        "Delay": 5_000_000_000,
        "MaxAttempts": 3,
        "Window": 120_000_000_000,
    }
    assert spec["TaskTemplate"]["Networks"][0]["Target"] == net["Id"]
    assert spec["EndpointSpec"]["Ports"][0]["PublishMode"] == "host"
    name = first.outputs["containerName"]
    assert name.startswith("ctr-"), "an unnamed container is auto-named"
    assert inspect(dockerd, "container", name)["State"]["Running"] is True

    again = deploy(PROGRAM, "test", config, [], state)
    assert {o["op"] for o in again.operations} == {"same"}

    # A service env change updates in place; a container change replaces, old one first.
    service["env"] = {"A": "2"}
    container["envs"] = ["X=2"]
    config = docker_config(docker_sshd, network=network, service=service, container=container)
    changed = deploy(PROGRAM, "test", config, [], state)
    assert changed.ok, changed.errors
    ops = {o["name"]: o["op"] for o in changed.operations}
    assert ops == {"node": "same", "net": "same", "svc": "update", "ctr": "replace"}
    assert changed.outputs["serviceId"] == first.outputs["serviceId"]
    # A replacement is checked again without its olds (step_generator.go), so a new auto-name.
    assert changed.outputs["containerName"] != name and name.startswith("ctr-")
    assert changed.outputs["containerId"] != first.outputs["containerId"]
    env = inspect(dockerd, "service", "eng-svc")["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert env == ["A=2"]

    # Any network change replaces it (delete first: a same-subnet network created beside the old
    # one is never allocated), and the service follows as a dependent replacement
    # (step_generator.go calculateDependentReplacements; networks_advanced.id is ForceNew).
    config = docker_config(
        docker_sshd,
        network={**network, "name": "eng-net2"},
        service=service,
        container=container,
    )
    replaced = deploy(PROGRAM, "test", config, [], state)
    assert replaced.ok, replaced.errors
    steps = [(o["name"], o["op"]) for o in replaced.operations if o["op"] != "same"]
    assert steps == [("svc", "delete"), ("net", "replace"), ("svc", "replace")]
    new_net = inspect(dockerd, "network", "eng-net2")["Id"]
    svc = inspect(dockerd, "service", "eng-svc")
    assert svc["Spec"]["TaskTemplate"]["Networks"][0]["Target"] == new_net
    assert "eng-net2" in networks(dockerd)
    # Swarm removes a network from the cluster at once; the node drops its local copy when the
    # old task (stopped by the service update) has gone.
    gone_within(dockerd, "eng-net", 60)

    # Dropping the service and container deletes them.
    config = docker_config(docker_sshd, network={**network, "name": "eng-net2"})
    shrunk = deploy(PROGRAM, "test", config, [], state)
    assert shrunk.ok, shrunk.errors
    assert sorted(o["name"] for o in shrunk.ops("delete")) == ["ctr", "svc"]
    assert dockerd.cli("service", "ls", "-q") == ""

    gone = destroy("test", state)
    assert gone.ok, gone.errors
    assert [o["name"] for o in gone.operations] == ["net", "node"]
    gone_within(dockerd, "eng-net2", 60)


def test_docker_provider_pins_the_host_key(
    dockerd: Dockerd, docker_sshd: Sshd, tmp_path: Path
) -> None:
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{docker_sshd.port} {docker_sshd.other_host_key}\n")
    network = {"name": "eng-pinned", "subnet": "10.20.40.0/24"}
    config = docker_config(docker_sshd, known_hosts=wrong, network=network)
    result = deploy(PROGRAM, "test", config, [], tmp_path / "state.json")
    assert not result.ok
    [(name, message)] = result.errors
    assert name == "net"
    assert "Host key verification failed" in message
    assert "docker system dial-stdio" in message
    assert "eng-pinned" not in networks(dockerd)


def test_a_service_whose_task_outlives_the_grace_period_fails_its_delete(
    dockerd: Dockerd, docker_sshd: Sshd, tmp_path: Path
) -> None:
    """terraform-provider-docker v4.5.0 internal/provider/resource_docker_service_funcs.go
    deleteService: with stop_grace_period set it waits for each task container to be removed
    (ContainerWait, condition removed) under a timeout of the grace period, counted from
    ServiceRemove; swarm kills a task that ignores the stop signal only when that period ends, so
    its container outlives the wait. `sleep` as PID 1 ignores SIGTERM, as the Exareme image's
    shell does; with SIGKILL (what the program sets, federation/exareme.py) the delete completes."""
    state = tmp_path / "state.json"
    slow = {"name": "eng-grace", "command": ["/bin/sleep", "3600"], "stopGracePeriod": "2s"}
    created = deploy(PROGRAM, "test", docker_config(docker_sshd, service=slow), [], state)
    assert created.ok, created.errors
    failed = deploy(PROGRAM, "test", docker_config(docker_sshd), [], state)
    assert not failed.ok
    assert "error on wait for container with ID" in str(failed.errors)
    assert "context deadline exceeded" in str(failed.errors)
    assert dockerd.cli("service", "ls", "-q") == "", "the service itself was removed"

    killed = {**slow, "name": "eng-kill", "stopSignal": "SIGKILL"}
    state = tmp_path / "killed.json"
    assert deploy(PROGRAM, "test", docker_config(docker_sshd, service=killed), [], state).ok
    removed = deploy(PROGRAM, "test", docker_config(docker_sshd), [], state)
    assert removed.ok, removed.errors
    assert [o["name"] for o in removed.ops("delete")] == ["svc"]
