"""One lab host: its names and paths, its disks, and booting and killing it.

A host is a network namespace (pinned at /run/netns/NAME) plus, while it runs, a process tree
started with `nsenter --net=... unshare --mount --uts --pid --fork --mount-proc tini -- sh boot.sh`:
its own hostname, mounts and pids. Killing the host's PID 1 kills all of it, containers included,
and releases its mounts; its disks (DATA/NAME) stay until `down`.
"""

import contextlib
import errno
import json
import os
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from . import engine, keys, procs
from .paths import CLIENT_KEY, DATA, HOST_ENV, NETNS, PRIVATE_DIRS, SCRIPTS

CGROUPS = "/sys/fs/cgroup"


class LabError(RuntimeError):
    pass


@dataclass(frozen=True)
class Host:
    index: int
    name: str
    ip: str

    @property
    def veth(self) -> str:
        """Root-namespace end of the host's veth pair (the host sees eth0)."""
        return f"v{self.name}"

    @property
    def netns(self) -> Path:
        return NETNS / self.name

    @property
    def data(self) -> Path:
        return DATA / self.name

    @property
    def docker_socket(self) -> Path:
        """The host's docker socket (its /run/docker.sock), reachable from the root namespace."""
        return self.data / "run/docker.sock"

    @property
    def docker_url(self) -> str:
        return f"unix://{self.docker_socket}"

    @property
    def host_key_file(self) -> Path:
        return keys.host_key_file(self.name)

    @property
    def daemon_json(self) -> Path:
        """The host's /etc/docker/daemon.json."""
        return self.data / "etc/docker/daemon.json"

    @property
    def log(self) -> Path:
        return self.data / "log"

    @property
    def scripts(self) -> Path:
        """The lab's host scripts, copied onto the host's disk where the host can read them."""
        return self.data / "scripts"


def prepare_disks(host: Host, fresh: bool, daemon_config: dict[str, Any]) -> None:
    """Create the host's private directories, root's authorized_keys, the sshd config and
    dockerd's daemon.json; with `fresh`, wipe whatever an earlier host of the same name left."""
    if fresh and host.data.exists():
        shutil.rmtree(host.data)
    for directory in (*PRIVATE_DIRS, "/log", "/root/.ssh"):
        (host.data / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (host.data / "root").chmod(0o700)
    (host.data / "root/.ssh").chmod(0o700)
    (host.data / "tmp").chmod(0o1777)
    authorized_keys = host.data / "root/.ssh/authorized_keys"
    authorized_keys.write_text(keys.public_key(CLIENT_KEY) + "\n")
    authorized_keys.chmod(0o600)
    # The host sees the repository only where it is not under one of its private directories
    # (a clone in /tmp or /root is hidden by the host's own /tmp or /root): its scripts and host
    # key are copied onto its disk.
    shutil.copytree(SCRIPTS, host.scripts, dirs_exist_ok=True)
    host_key = host.data / "ssh_host_ed25519_key"
    shutil.copyfile(host.host_key_file, host_key)
    host_key.chmod(0o600)
    template = Template((SCRIPTS / "sshd_config").read_text())
    config = template.substitute(host=host.name, ip=host.ip, host_key=host_key)
    (host.data / "sshd_config").write_text(config)
    host.daemon_json.write_text(json.dumps(daemon_config, indent=1) + "\n")


def has_daemon_config(host: Host, daemon_config: dict[str, Any]) -> bool:
    """True if the host's daemon.json is `daemon_config` (a host from before the lab registry has
    none)."""
    try:
        return bool(json.loads(host.daemon_json.read_text()) == daemon_config)
    except (OSError, ValueError):
        return False


def init_pid(host: Host) -> int | None:
    """Root-namespace pid of the host's PID 1, if it runs."""
    netns = procs.namespace_id(host.netns)
    return procs.namespace_init(netns) if netns else None


def boot(host: Host, timeout: float = 30.0) -> int:
    """Start the host (its disks and network namespace must exist) and wait until sshd accepts
    connections and dockerd answers. Returns the root-namespace pid of the host's PID 1."""
    shutil.rmtree(host.data / "run")  # /run starts empty, as on a real boot
    (host.data / "run").mkdir()
    command = [
        *("nsenter", f"--net={host.netns}"),
        *("unshare", "--mount", "--uts", "--pid", "--fork", "--mount-proc"),
        *("tini", "--", "sh", str(host.scripts / "boot.sh"), host.name, str(host.data)),
    ]
    procs.start_detached(command, host.log / "boot.log", env=HOST_ENV)
    deadline = time.monotonic() + timeout
    while (pid := init_pid(host)) is None:
        _tick(deadline, host, "PID 1")
    wait_ready(host, pid, deadline)
    return pid


def wait_ready(
    host: Host, pid: int, deadline: float, services: tuple[str, ...] = ("sshd", "dockerd")
) -> None:
    """Wait until the services answer, or fail if the host's PID 1 `pid` dies or time runs out."""
    probes = {"sshd": sshd_answers, "dockerd": dockerd_answers}
    for service in services:
        while not probes[service](host):
            if not procs.alive(pid):
                raise LabError(f"{host.name} stopped while starting {service}; see {host.log}/")
            _tick(deadline, host, service)


def _tick(deadline: float, host: Host, what: str) -> None:
    if time.monotonic() > deadline:
        raise LabError(f"{host.name}: {what} not up in time; see {host.log}/")
    time.sleep(0.05)


def sshd_answers(host: Host) -> bool:
    try:
        with socket.create_connection((host.ip, 22), timeout=1.0) as connection:
            return connection.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def dockerd_answers(host: Host) -> bool:
    return engine.answers(host.docker_socket)


def kill(host: Host) -> None:
    """Kill every process of the host, like pulling the plug, and wait until they are gone."""
    netns = procs.namespace_id(host.netns)
    if netns is None:
        return
    inits = [pid for pid in procs.in_netns(netns) if procs.is_namespace_init(pid, netns)]
    procs.kill_and_wait(inits)  # the kernel kills the rest of each pid namespace
    procs.kill_and_wait(procs.in_netns(netns))  # what is left only joined the network namespace
    remove_cgroups(host)


def remove_cgroups(host: Host) -> None:
    """Remove the cgroups dockerd made for the host's containers, which must be dead: mip-lab/NAME
    below the cgroup dockerd ran in, in every hierarchy; then mip-lab itself if no host uses it."""
    for directory, subdirectories, _ in os.walk(CGROUPS):
        if os.path.basename(directory) != "mip-lab":
            continue
        subdirectories.clear()
        for cgroup, _, _ in os.walk(os.path.join(directory, host.name), topdown=False):
            _rmdir(cgroup)
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _rmdir(cgroup: str, timeout: float = 5.0) -> None:
    """rmdir a cgroup, retrying while it is busy (its last processes are still exiting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.rmdir(cgroup)
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def nsenter(pid: int) -> list[str]:
    """Command prefix to run a command inside a host: its network, mount, UTS, pid namespaces."""
    return ["nsenter", "-t", str(pid), "-n", "-m", "-u", "-p", "--"]
