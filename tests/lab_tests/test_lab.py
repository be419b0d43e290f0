"""Tests of the lab itself, on a lab of its own (mipt1, mipt2 on 10.231.1.0/24, its registry on
10.231.1.1:5000) so that they never disturb a running mip lab. The last test takes the lab down
and checks what is left."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from shlex import quote
from typing import Any, TypeVar

import pytest
import yaml

from tests.lab import STANDIN_IMAGES, Lab, LabError
from tests.lab.paths import DATA, PRIVATE_DIRS, REPO, STATE
from tests.lab.registry import BINARY as REGISTRY_BINARY

pytestmark = pytest.mark.lab

PREFIX, SUBNET = "mipt", "10.231.1"
REGISTRY = f"{SUBNET}.1:5000"
REGISTRY_LOG = DATA / f"{PREFIX}-registry/log/registry.log"
EXTRA_IMAGE = "hbpmip/exareme:v6"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
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


def registry_get(path: str) -> tuple[Any, Any]:
    """(headers, body) of GET http://REGISTRY/path, straight from the registry, accepting a
    schema 2 manifest (as dockerd does; without, the registry converts to schema 1)."""
    connection = http.client.HTTPConnection(REGISTRY, timeout=5)
    try:
        connection.request("GET", path, headers={"Accept": MANIFEST_V2})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status, body)
        return response.headers, body
    finally:
        connection.close()


def registry_requests(host: str) -> list[str]:
    """The requests `host` (an address) made to the lab registry, from its access log."""
    lines = REGISTRY_LOG.read_text().splitlines()
    return [line.split('"')[1] for line in lines if line.startswith(f"{host} - - [")]


def test_up_again_with_the_same_size_changes_nothing(lab: Lab) -> None:
    pids = [lab.run(i, "cat /run/docker.pid").stdout for i in (1, 2)]
    registry_pid = registry_pids()
    started = time.monotonic()
    lab.up(2)
    print(f"up again: {time.monotonic() - started:.2f}s")
    assert [lab.run(i, "cat /run/docker.pid").stdout for i in (1, 2)] == pids
    assert registry_pids() == registry_pid != []


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


def test_registry_answers_on_the_bridge_address(lab: Lab) -> None:
    assert lab.registry == REGISTRY
    headers, _ = registry_get("/v2/")
    assert headers["Docker-Distribution-API-Version"] == "registry/2.0"
    _, catalog = registry_get("/v2/_catalog")
    repositories = {image.split(":")[0] for image in (*STANDIN_IMAGES, EXTRA_IMAGE)}
    assert set(yaml.safe_load(catalog)["repositories"]) == repositories
    _, tags = registry_get("/v2/hbpmip/exareme/tags/list")
    assert sorted(yaml.safe_load(tags)["tags"]) == ["v5", "v6"]
    # Reached from a host, as the hosts' dockerd reach it.
    assert "registry/2.0" in lab.run(1, f"busybox wget -qSO- http://{REGISTRY}/v2/ 2>&1").stdout
    listening = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True)
    assert f"{REGISTRY} " in listening.stdout
    assert (DATA / f"{PREFIX}-registry/storage/docker/registry/v2/repositories").is_dir()


def test_dockerd_uses_the_registry_as_its_docker_hub_mirror(lab: Lab) -> None:
    registry = lab.docker(1).info()["RegistryConfig"]
    assert registry["Mirrors"] == [f"http://{REGISTRY}/"]
    assert registry["IndexConfigs"][REGISTRY]["Secure"] is False
    environment = lab.run(1, "tr '\\0' '\\n' </proc/$(cat /run/docker.pid)/environ").stdout
    assert "DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1" not in environment.splitlines()


def test_containers_ask_the_lab_resolver(lab: Lab) -> None:
    # A name unknown to Docker's embedded DNS is forwarded to the daemon's `dns`: the lab's
    # resolver says NXDOMAIN at once, as a hospital's resolver would, instead of the lookup
    # waiting for a nameserver the host cannot reach.
    config = json.loads(lab.run(1, "cat /etc/docker/daemon.json").stdout)
    assert config["dns"] == [f"{SUBNET}.1"]
    lookup = (
        "docker network create resolver-check >/dev/null && "
        "docker run --rm --network resolver-check mip-lab/busybox:1 "
        "nslookup no-such-host.mip 2>&1; "
        "docker network rm resolver-check >/dev/null"
    )
    output = lab.run(1, lookup, check=False).stdout
    assert "NXDOMAIN" in output and "timed out" not in output, output


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


def test_a_host_pulls_through_the_registry(lab: Lab) -> None:
    lab.reset()
    host = lab.host(1)
    assert lab.run(1, "docker image ls -q").stdout == ""  # nothing preloaded
    assert lab.run(1, "ip route").stdout.split()[0] != "default"  # no way out but the lab
    before = len(registry_requests(host.ip))
    started = time.monotonic()
    pulled = lab.run(1, "docker pull hbpmip/exareme:v5").stdout
    print(f"first pull on a clean host: {time.monotonic() - started:.2f}s")
    digest = lab.image_ref("hbpmip/exareme:v5").split("@")[1]
    assert f"Digest: {digest}" in pulled
    requests = registry_requests(host.ip)[before:]
    # dockerd resolves the tag (HEAD), then fetches the manifest by digest, then the blobs.
    assert "HEAD /v2/hbpmip/exareme/manifests/v5 HTTP/1.1" in requests
    assert f"GET /v2/hbpmip/exareme/manifests/{digest} HTTP/1.1" in requests
    assert any(r.startswith("GET /v2/hbpmip/exareme/blobs/sha256:") for r in requests)
    # By digest, as a swarm task pulls, and by the registry's own name.
    lab.run(2, f"docker pull {lab.image_ref('hashicorp/consul:1.15.4')}")
    lab.run(2, f"docker pull {REGISTRY}/mip-lab/busybox:1")
    assert lab.run(2, f"docker run --rm {REGISTRY}/mip-lab/busybox:1 echo hi").stdout == "hi\n"


def test_pull_gives_every_host_the_same_images(lab: Lab) -> None:
    lab.reset()
    started = time.monotonic()
    lab.pull()
    print(
        f"pull of {len(STANDIN_IMAGES) + 1} stand-ins on 2 hosts: {time.monotonic() - started:.2f}s"
    )
    listing = "docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}'"
    images = [
        {name: rest for name, *rest in map(str.split, lab.run(i, listing).stdout.splitlines())}
        for i in (1, 2)
    ]
    assert set(images[0]) == {*STANDIN_IMAGES, EXTRA_IMAGE}
    assert images[0] == images[1]  # same image IDs and digests everywhere
    assert images[0][EXTRA_IMAGE] == images[0]["hbpmip/exareme:v5"]
    for name, (_, digest) in images[0].items():
        assert lab.image_ref(name) == f"{name}@{digest}"


@pytest.mark.parametrize("image", [*STANDIN_IMAGES, EXTRA_IMAGE])
def test_distribution_inspect_answers_with_the_pinned_digest(lab: Lab, image: str) -> None:
    # What the provider's QueryRegistry asks a host's dockerd before it creates a service.
    answer = lab.docker(2).api.inspect_distribution(image)
    assert answer["Platforms"] == [{"architecture": "amd64", "os": "linux"}]
    assert lab.image_ref(image) == f"{image}@{answer['Descriptor']['digest']}"
    headers, _ = registry_get(f"/v2/{image.replace(':', '/manifests/')}")
    assert headers["Docker-Content-Digest"] == answer["Descriptor"]["digest"]


def test_image_ref_of_an_unknown_image(lab: Lab) -> None:
    with pytest.raises(LabError, match="registry has no hbpmip/exareme:v404"):
        lab.image_ref("hbpmip/exareme:v404")
    with pytest.raises(LabError, match=r"names registry quay\.io"):
        lab.image_ref("quay.io/hbpmip/exareme:v5")
    with pytest.raises(LabError, match="not a valid image name"):
        lab.image_ref("HBPMIP/exareme:v5")


def test_overlay_task_to_task_and_host_mode_port(swarm: Lab) -> None:
    # The Exareme stand-ins need a keystore and the RAW* settings (test_standins.py): a plain
    # busybox page is enough for the overlay and the published port.
    serve = "mkdir /www && echo page-of-mipt2 >/www/index.html && exec httpd -f -p 9090 -h /www"
    swarm.run(
        1,
        "docker service create --detach --name web --network plain --endpoint-mode dnsrr"
        " --constraint node.hostname==mipt2 --publish mode=host,target=9090,published=9090"
        f" mip-lab/busybox:1 {quote(serve)}",
    )
    task = "docker ps --filter name=web. --format '{{.ID}}'"
    container = wait_for("the web task on mipt2", lambda: swarm.run(2, task).stdout.strip())
    address = swarm.run(
        2,
        f"docker inspect {container} --format '{{{{.NetworkSettings.Networks.plain.IPAddress}}}}'",
    ).stdout.strip()
    assert address
    # Retried: the embedded DNS on mipt1 learns the task's name a moment after the task starts.
    fetch = (
        'get() { for _ in $(seq 40); do timeout 3 wget -qO- "$1" && return; sleep 0.25; done; }; '
        f"get http://web:9090/ && get http://{address}:9090/"
    )
    # The docker CLI, like the provider, pins the image to the digest the registry serves.
    image = "docker service inspect web --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}'"
    assert swarm.run(1, image).stdout.strip() == swarm.image_ref("mip-lab/busybox:1")
    pages = swarm.run(1, f"docker run --rm --network plain mip-lab/busybox:1 {quote(fetch)}")
    assert pages.stdout.count("page-of-mipt2") == 2
    url = f"http://{swarm.host(2).ip}:9090/"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert "page-of-mipt2" in response.read().decode()


def test_reset_leaves_clean_hosts(swarm: Lab) -> None:
    swarm.run(1, "docker run -d --name idle mip-lab/busybox:1 && docker volume create data")
    swarm.run(2, "touch /root/gone-after-reset")
    swarm.run(2, "iptables -A INPUT -p udp --dport 4789 -j DROP")
    swarm.run(2, "ip link add leftover0 type bridge")
    swarm.reset()
    assert swarm.run(2, "ls /root/gone-after-reset", check=False).returncode != 0
    assert "4789" not in swarm.run(2, "iptables -S INPUT").stdout
    assert swarm.run(2, "ip link show leftover0", check=False).returncode != 0
    assert swarm.ssh(2, "hostname").stdout.strip() == "mipt2"
    for i in (1, 2):
        state = swarm.run(i, "docker info --format '{{.Swarm.LocalNodeState}}'").stdout.strip()
        assert state == "inactive"
        assert swarm.run(i, "docker ps -aq; docker volume ls -q").stdout == ""
        networks = swarm.run(i, "docker network ls --format '{{.Name}}'").stdout.split()
        assert sorted(networks) == ["bridge", "host", "none"]
    assert swarm.run(1, "docker image ls -q").stdout == ""  # pulled again when needed
    daemon_json = yaml.safe_load(swarm.run(1, "cat /etc/docker/daemon.json").stdout)
    assert daemon_json["registry-mirrors"] == [f"http://{REGISTRY}"]


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
    assert config["mip-federation:exareme"] == {
        "image": lab.image_ref("hbpmip/exareme:v5"),
        "keystoreImage": lab.image_ref("hashicorp/consul:1.15.4"),
        # the lab's bridge address, where tests and the bench ask the master from
        "allowFrom": [f"{SUBNET}.1"],
    }
    assert config["mip-federation:portal"] == {
        "image": lab.image_ref("hbpmip/portal-backend:2.5.4")
    }
    exareme = config["mip-federation:exareme"]
    assert all("@sha256:" in exareme[key] for key in ("image", "keystoreImage"))
    assert "mip-federation:network" not in lab.stack_config(["chuv"])["config"]
    with pytest.raises(LabError, match="3 node names but the lab has 2 hosts"):
        lab.stack_config(["chuv", "hug", "bern"])
    printed = cli("stack", "--names", "chuv,hug", "--managers", "2", "--unencrypted")
    assert printed.returncode == 0, printed.stderr
    printed_config = yaml.safe_load(printed.stdout)["config"]
    roles = [node["role"] for node in printed_config["mip-federation:nodes"]]
    assert roles == ["manager", "manager"]
    assert printed_config["mip-federation:exareme"] == config["mip-federation:exareme"]
    too_many = cli("stack", "--names", "a,b,c")
    assert too_many.returncode != 0
    assert "3 node names but the lab has 2 hosts" in too_many.stderr


def test_stack_secrets_file_gives_every_node_a_password(lab: Lab, tmp_path: Path) -> None:
    secrets_file = tmp_path / "secrets.yaml"
    assert cli("stack", "--names", "chuv", "--secrets-file", str(secrets_file)).returncode == 0
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    first = yaml.safe_load(secrets_file.read_text())["mip-federation:ldsmPasswords"]
    assert set(first) == {"chuv"} and len(first["chuv"]) >= 16
    assert cli("stack", "--names", "chuv,hug", "--secrets-file", str(secrets_file)).returncode == 0
    second = yaml.safe_load(secrets_file.read_text())["mip-federation:ldsmPasswords"]
    assert second["chuv"] == first["chuv"], "a password already given is kept"
    assert set(second) == {"chuv", "hug"} and second["hug"] != second["chuv"]


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


def test_up_restarts_a_dead_registry_and_pushes_again(lab: Lab) -> None:
    refs = [lab.image_ref(image) for image in (*STANDIN_IMAGES, EXTRA_IMAGE)]
    old = registry_pids()
    subprocess.run(["kill", "-KILL", *map(str, old)], check=True)
    wait_for("the registry to die", lambda: registry_pids() == [])
    with pytest.raises(LabError, match="does not answer"):
        lab.image_ref("hbpmip/exareme:v5")
    lab.up(2)
    assert registry_pids() not in ([], old)
    # Same content, same digests: the builds are deterministic.
    assert [lab.image_ref(image) for image in (*STANDIN_IMAGES, EXTRA_IMAGE)] == refs


def test_up_image_pushes_a_new_stand_in(lab: Lab) -> None:
    lab.up(2, ["mip-lab/portal-backend:9", f"{REGISTRY}/lab-only/consul:2"])
    # Roles by repository name: portal, consul; one manifest per role, whatever its name.
    assert (
        lab.image_ref("mip-lab/portal-backend:9").split("@")[1]
        == (lab.image_ref("hbpmip/portal-backend:2.5.4").split("@")[1])
    )
    pinned = lab.image_ref(f"{REGISTRY}/lab-only/consul:2")
    lab.run(1, f"docker pull -q {pinned}")
    config = lab.docker(1).images.get(pinned).attrs["Config"]
    assert config["Labels"] == {"org.mip-lab.stand-in": "consul"}


def test_failed_up_cleans_up() -> None:
    broken = Lab("mipf", "10.231.2")
    with pytest.raises(LabError, match="not a valid image name"):
        broken.up(1, ["not a valid image name"])
    assert_nothing_left(broken)


def test_a_lab_another_checkout_started_is_started_again_here(lab: Lab) -> None:
    # A lab left up by a clone elsewhere: its hosts trust that clone's client key and present
    # that clone's host keys, so this checkout could not log in (CI on a clean clone hit this).
    state = json.loads(lab.state_file.read_text())
    state["keys"] = "/elsewhere/.lab"
    lab.state_file.write_text(json.dumps(state))
    assert lab.is_up() and not lab.started_here()
    lab.up(2)
    assert lab.started_here()
    # Started again: new hosts (their PID 1 in the root namespace) on a new state.
    assert json.loads(lab.state_file.read_text())["hosts"] != state["hosts"]
    assert lab.ssh(2, "hostname").stdout.strip() == "mipt2"


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
        arguments = command_line.split(b"\0")
        resolver = b"mip-lab-resolver" in arguments and f"{lab.subnet}.1".encode() in arguments
        if f"/var/lib/mip-lab/{prefix}".encode() in command_line or resolver:
            leftovers.append(command_line)
    assert leftovers == []
    listening = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True)
    assert f"{lab.registry} " not in listening.stdout


def registry_pids() -> list[int]:
    """The mipt lab's registry processes."""
    marker = f"{DATA}/{PREFIX}-registry/".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if command_line.startswith(REGISTRY_BINARY.encode()) and marker in command_line:
            found.append(int(pid))
    return found
