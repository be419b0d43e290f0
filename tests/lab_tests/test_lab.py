"""Tests of the lab itself, on a lab of its own (mipt1, mipt2 on 10.231.1.0/24) so that they
never disturb a running mip lab. The last test takes the lab down and checks what is left."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from shlex import quote
from typing import TypeVar

import pytest
import yaml

from tests.lab import STANDIN_IMAGES, Lab, LabError
from tests.lab.paths import DATA, PRIVATE_DIRS, REPO, STATE

pytestmark = pytest.mark.lab

PREFIX, SUBNET = "mipt", "10.231.1"
EXTRA_IMAGE = "hbpmip/exareme:v6"
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tests.lab", "--prefix", PREFIX, "--subnet", SUBNET, *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("the local lab needs root (network namespaces, mounts, dockerd)")
    lab = Lab(PREFIX, SUBNET)
    lab.down()  # whatever an interrupted run left
    lab.up(2, [EXTRA_IMAGE])
    yield lab
    lab.down()


@pytest.fixture
def swarm(lab: Lab) -> Lab:
    """Host 1 manager, host 2 worker, and a plain attachable overlay network `plain`."""
    lab.reset()
    lab.run(1, f"docker swarm init --advertise-addr {lab.host(1).ip}")
    token = lab.run(1, "docker swarm join-token -q worker").stdout.strip()
    lab.run(2, f"docker swarm join --token {token} {lab.host(1).ip}:2377")
    lab.run(1, "docker network create --driver overlay --attachable plain")
    return lab


def test_up_again_with_the_same_size_changes_nothing(lab: Lab) -> None:
    pids = [lab.run(i, "cat /run/docker.pid").stdout for i in (1, 2)]
    started = time.monotonic()
    lab.up(2)
    assert time.monotonic() - started < 2
    assert [lab.run(i, "cat /run/docker.pid").stdout for i in (1, 2)] == pids


def test_each_host_has_its_own_hostname(lab: Lab) -> None:
    assert [lab.run(h.index, "hostname").stdout.strip() for h in lab.hosts] == ["mipt1", "mipt2"]
    assert lab.run(1, "docker info --format '{{.Name}}'").stdout.strip() == "mipt1"
    assert lab.docker(2).info()["Name"] == "mipt2"
    assert socket.gethostname() not in ("mipt1", "mipt2")


@pytest.mark.parametrize("directory", PRIVATE_DIRS)
def test_each_host_has_its_own_directory(lab: Lab, directory: str) -> None:
    marker = f"{directory}/lab-test-marker"
    lab.run(1, f"touch {marker}")
    try:
        assert lab.run(1, f"test -e {marker}", check=False).returncode == 0
        assert lab.run(2, f"test -e {marker}", check=False).returncode != 0
        assert not Path(marker).exists()
        assert (DATA / "mipt1" / marker.lstrip("/")).exists()
    finally:
        lab.run(1, f"rm -f {marker}")


def test_dockerd_prefers_local_images(lab: Lab) -> None:
    environment = lab.run(1, "tr '\\0' '\\n' </proc/$(cat /run/docker.pid)/environ").stdout
    assert "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1" in environment.splitlines()


def test_ssh_with_the_pinned_host_key(lab: Lab) -> None:
    assert lab.ssh(2, "hostname").stdout.strip() == "mipt2"
    assert cli("ssh", "1", "hostname").stdout.strip() == "mipt1"
    assert lab.known_hosts_line(1) in lab.known_hosts_file.read_text().splitlines()


def test_ssh_refuses_a_wrong_host_key(lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"{lab.host(1).ip} {lab.host_key(2)}\n")
    result = subprocess.run(
        [*lab.ssh_command(1, known_hosts=wrong), "true"], capture_output=True, text=True
    )
    assert result.returncode == 255
    assert "Host key verification failed" in result.stderr


def test_stand_in_images_are_on_every_host(lab: Lab) -> None:
    listing = "docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}'"
    images = [
        dict(line.split() for line in lab.run(i, listing).stdout.splitlines()) for i in (1, 2)
    ]
    assert set(images[0]) == {*STANDIN_IMAGES, EXTRA_IMAGE}
    assert images[0] == images[1]  # same image IDs everywhere
    assert images[0][EXTRA_IMAGE] == images[0]["hbpmip/exareme:v5"]


def test_overlay_task_to_task_and_host_mode_port(swarm: Lab) -> None:
    swarm.run(
        1,
        "docker service create --detach --name exa --network plain --endpoint-mode dnsrr"
        " --constraint node.hostname==mipt2 --env NODE_NAME=hug --env MASTER_FLAG=master"
        " --publish mode=host,target=9090,published=9090 hbpmip/exareme:v5",
    )
    task = "docker ps --filter name=exa. --format '{{.ID}}'"
    container = wait_for("the exa task on mipt2", lambda: swarm.run(2, task).stdout.strip())
    address = swarm.run(
        2,
        f"docker inspect {container} --format '{{{{.NetworkSettings.Networks.plain.IPAddress}}}}'",
    ).stdout.strip()
    # Retried: the embedded DNS on mipt1 learns the task's name a moment after the task starts.
    fetch = (
        'get() { for _ in $(seq 40); do timeout 3 wget -qO- "$1" && return; sleep 0.25; done; }; '
        f"get http://exa:9090/ && get http://{address}:9090/"
    )
    pages = swarm.run(1, f"docker run --rm --network plain mip-lab/busybox:1 {quote(fetch)}")
    assert pages.stdout.count("NODE_NAME=hug") == 2
    assert "MASTER_FLAG=master" in pages.stdout
    url = f"http://{swarm.host(2).ip}:9090/exa-view/index.html"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert "NODE_NAME=hug" in response.read().decode()


def test_reset_leaves_clean_hosts(swarm: Lab) -> None:
    swarm.run(1, "docker run -d --name idle mip-lab/busybox:1 && docker volume create data")
    swarm.run(2, "touch /root/gone-after-reset")
    swarm.reset()
    assert swarm.run(2, "ls /root/gone-after-reset", check=False).returncode != 0
    for i in (1, 2):
        state = swarm.run(i, "docker info --format '{{.Swarm.LocalNodeState}}'").stdout.strip()
        assert state == "inactive"
        assert swarm.run(i, "docker ps -aq; docker volume ls -q").stdout == ""
        networks = swarm.run(i, "docker network ls --format '{{.Name}}'").stdout.split()
        assert sorted(networks) == ["bridge", "host", "none"]
    images = swarm.run(1, "docker image ls --format '{{.Repository}}:{{.Tag}}'").stdout.split()
    assert set(images) == {*STANDIN_IMAGES, EXTRA_IMAGE}


def test_reboot_keeps_disks_and_swarm_state(swarm: Lab) -> None:
    swarm.run(2, "touch /run/gone-after-reboot /root/kept-after-reboot")
    swarm.reboot(2)
    assert swarm.run(2, "ls /run/gone-after-reboot", check=False).returncode != 0
    swarm.run(2, "ls /root/kept-after-reboot")
    state = swarm.run(2, "docker info --format '{{.Swarm.LocalNodeState}}'").stdout.strip()
    assert state == "active"
    nodes = "docker node ls --format '{{.Hostname}} {{.Status}}'"
    wait_for("mipt2 ready again", lambda: "mipt2 Ready" in swarm.run(1, nodes).stdout)
    assert swarm.ssh(2, "hostname").stdout.strip() == "mipt2"


def test_restart_dockerd(lab: Lab) -> None:
    lab.reset()
    old_pid = lab.run(1, "cat /run/docker.pid").stdout
    lab.restart_dockerd(1)
    assert lab.run(1, "cat /run/docker.pid").stdout != old_pid
    assert lab.run(1, "docker info --format '{{.Name}}'").stdout.strip() == "mipt1"


def test_link_down_cuts_the_host_off(lab: Lab) -> None:
    address = (lab.host(2).ip, 22)
    lab.link_down(2)
    try:
        with pytest.raises(OSError):
            socket.create_connection(address, timeout=1).close()
    finally:
        lab.link_up(2)
    socket.create_connection(address, timeout=5).close()


def test_stack_config(lab: Lab) -> None:
    config = lab.stack_config(["chuv", "hug"], encrypted=False)["config"]
    assert config["mip-federation:ssh"] == {
        "user": "root",
        "port": 22,
        "privateKeyFile": str(lab.key_file),
    }
    assert config["mip-federation:nodes"] == [
        {"name": "chuv", "host": "10.231.1.11", "role": "manager", "hostKey": lab.host_key(1)},
        {"name": "hug", "host": "10.231.1.12", "role": "worker", "hostKey": lab.host_key(2)},
    ]
    assert config["mip-federation:network"] == {"encrypted": False}
    assert "mip-federation:network" not in lab.stack_config(["chuv"])["config"]
    with pytest.raises(LabError, match="3 node names but the lab has 2 hosts"):
        lab.stack_config(["chuv", "hug", "bern"])
    printed = cli("stack", "--names", "chuv,hug", "--managers", "2", "--unencrypted")
    assert printed.returncode == 0, printed.stderr
    roles = [
        node["role"] for node in yaml.safe_load(printed.stdout)["config"]["mip-federation:nodes"]
    ]
    assert roles == ["manager", "manager"]
    too_many = cli("stack", "--names", "a,b,c")
    assert too_many.returncode != 0
    assert "3 node names but the lab has 2 hosts" in too_many.stderr


def test_status_and_memory(lab: Lab) -> None:
    assert [(s.running, s.sshd, s.dockerd) for s in lab.status()] == [(True, True, True)] * 2
    assert cli("status").returncode == 0
    memory = lab.memory()
    assert set(memory) == {"mipt1", "mipt2"}
    assert all(10 * 2**20 < usage.rss < 1 * 2**30 for usage in memory.values())


def test_up_adds_and_removes_hosts(lab: Lab) -> None:
    lab.up(3)
    assert lab.ssh(3, "hostname").stdout.strip() == "mipt3"
    lab.up(2)
    assert [h.name for h in lab.hosts] == ["mipt1", "mipt2"]
    assert not Path("/run/netns/mipt3").exists()
    assert not (DATA / "mipt3").exists()


def test_failed_up_cleans_up() -> None:
    broken = Lab("mipf", "10.231.2")
    with pytest.raises(OSError, match="docker load"):
        broken.up(1, ["not a valid image name"])
    assert_nothing_left(broken)


def test_down_leaves_nothing_behind(lab: Lab) -> None:
    lab.down()
    assert_nothing_left(lab)
    lab.down()  # idempotent


def assert_nothing_left(lab: Lab) -> None:
    prefix = lab.prefix
    assert not lab.is_up()
    assert not list(Path("/run/netns").glob(f"{prefix}*"))
    assert not [name for name in os.listdir("/sys/class/net") if prefix in name]
    rules = subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=True).stdout
    assert lab.bridge not in rules
    assert not list(DATA.glob(f"{prefix}*"))
    assert not (STATE / f"{prefix}.json").exists()
    cgroups = subprocess.run(
        ["find", "/sys/fs/cgroup", "-name", f"{prefix}*"], capture_output=True, text=True
    )
    assert cgroups.stdout == ""
    leftovers = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if f"/var/lib/mip-lab/{prefix}".encode() in command_line:
            leftovers.append(command_line)
    assert leftovers == []
